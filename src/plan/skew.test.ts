import { describe, expect, it } from 'vitest';
import { checkSkew, type SkewRule } from './skew.js';
import { cluster, type ClusterShape } from './testdata/fixtures.js';

type Finding = [SkewRule, string];

describe('checkSkew', () => {
  it.each<[string, ClusterShape, Finding[]]>([
    ['all at one version', { api: { cp1: 'v1.37.2' }, kcm: { cp1: 'v1.37.2' }, sched: { cp1: 'v1.37.2' }, proxy: 'v1.37.2', etcd: { cp1: '3.6.6' } }, []],
    ['nothing observed', {}, []],
    ['patch differences never count', { api: { cp1: 'v1.37.0' }, kcm: { cp1: 'v1.37.9' }, proxy: 'v1.37.5' }, []],
    ['HA apiservers one minor apart', { api: { cp1: 'v1.36.4', cp2: 'v1.37.2' } }, []],
    ['HA apiservers two minors apart', { api: { cp1: 'v1.35.0', cp2: 'v1.37.2' } }, [['ApiServerSpread', 'kube-apiserver']]],
    ['controller-manager newer than an apiserver', { api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.37.2' } }, [['NewerThanApiServer', 'kube-controller-manager']]],
    ['scheduler newer than the older of HA apiservers', { api: { cp1: 'v1.37.2', cp2: 'v1.36.4' }, sched: { cp1: 'v1.37.2' } }, [['NewerThanApiServer', 'kube-scheduler']]],
    ['scheduler one minor older is fine', { api: { cp1: 'v1.37.2' }, sched: { cp1: 'v1.36.4' } }, []],
    ['scheduler two minors older', { api: { cp1: 'v1.37.2' }, sched: { cp1: 'v1.35.0' } }, [['OlderThanApiServer', 'kube-scheduler']]],
    ['controller-manager older than the newest of HA apiservers by two', { api: { cp1: 'v1.36.0', cp2: 'v1.37.0' }, kcm: { cp1: 'v1.35.9' } }, [['OlderThanApiServer', 'kube-controller-manager']]],
    ['kube-proxy three minors older is fine', { api: { cp1: 'v1.37.2' }, proxy: 'v1.34.0' }, []],
    ['kube-proxy four minors older', { api: { cp1: 'v1.37.2' }, proxy: 'v1.33.9' }, [['OlderThanApiServer', 'kube-proxy']]],
    ['kube-proxy newer than the apiserver', { api: { cp1: 'v1.36.4' }, proxy: 'v1.37.0' }, [['NewerThanApiServer', 'kube-proxy']]],
    ['dependents without an apiserver are not judged', { kcm: { cp1: 'v1.30.0' }, proxy: 'v1.20.0' }, []],
    ['etcd members one minor apart', { etcd: { cp1: '3.5.21', cp2: '3.6.5' } }, []],
    ['etcd members two minors apart', { etcd: { cp1: '3.4.30', cp2: '3.6.5' } }, [['EtcdMemberSpread', 'etcd']]],
    ['apiservers across majors', { api: { cp1: 'v1.37.0', cp2: 'v2.0.0' } }, [['MajorMismatch', 'kube-apiserver']]],
    ['a dependent across majors', { api: { cp1: 'v1.37.0' }, kcm: { cp1: 'v2.0.0' } }, [['MajorMismatch', 'kube-controller-manager']]],
    ['an unparseable version', { api: { cp1: 'v1.37.0-rc.1', cp2: 'v1.37.0' }, etcd: { cp1: 'latest' } }, [['InvalidVersion', 'etcd'], ['InvalidVersion', 'kube-apiserver']]],
  ])('%s', (_name, shape, want) => {
    expect(checkSkew(cluster(shape)).map((v): Finding => [v.rule, v.component])).toEqual(want);
  });

  it('names the instances, the gap and the limit', () => {
    const [proxy] = checkSkew(cluster({ api: { cp1: 'v1.37.2', cp2: 'v1.37.1' }, proxy: 'v1.33.9' }));
    expect(proxy?.message).toBe(
      'kube-proxy v1.33.9 is 4 minors older than kube-apiserver v1.37.2 on cp1; allowed: at most 3 minors older',
    );
    expect(proxy?.excess).toBe(1);
    const [spread] = checkSkew(cluster({ api: { cp2: 'v1.34.0', cp1: 'v1.37.0' } }));
    expect(spread?.message).toBe('kube-apiserver instances v1.34.0 on cp2 and v1.37.0 on cp1 are 3 minors apart; allowed: within 1 minor');
    expect(spread?.excess).toBe(2);
    const [invalid] = checkSkew(cluster({ api: { cp1: 'v1.37' } }));
    expect(invalid?.message).toBe('kube-apiserver on cp1 reports version "v1.37", which cannot be compared');
    const [proxy2] = checkSkew(cluster({ api: { cp1: 'v1.37.0' }, proxy: 'latest' }));
    expect(proxy2?.message).toBe('kube-proxy reports version "latest", which cannot be compared');
  });

  it('reports both directions when a component spans too wide', () => {
    const rules = checkSkew(cluster({ api: { cp1: 'v1.36.0', cp2: 'v1.37.0' }, sched: { cp1: 'v1.37.1', cp2: 'v1.35.0' } })).map((v) => v.rule);
    expect(rules).toEqual(['NewerThanApiServer', 'OlderThanApiServer']);
  });
});
