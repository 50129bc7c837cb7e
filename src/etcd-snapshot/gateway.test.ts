import { describe, expect, it } from 'vitest';
import { describeRequestError, int64Field, parseCount, parseStatus } from './gateway.js';

describe('gateway answers', () => {
  it('reads maintenance/status as etcd 3.7 sends it (int64 as strings)', () => {
    const doc = {
      header: { cluster_id: '324952591200643719', member_id: '3319814642761637952', revision: '82', raft_term: '2' },
      version: '3.7.0',
      dbSize: '6025216',
      dbSizeInUse: '4993024',
    };
    expect(parseStatus(doc)).toEqual({ dbSize: 6025216, version: '3.7.0', revision: 82 });
  });

  it('reads a count_only range, a left-out count being 0', () => {
    expect(parseCount({ header: { revision: '2' }, count: '1' })).toEqual({ keys: 1, revision: 2 });
    expect(parseCount({ header: { revision: '1' } })).toEqual({ keys: 0, revision: 1 });
  });

  it.each([
    [() => parseStatus({}), 'etcd /v3/maintenance/status: response has no header object'],
    [() => parseCount({ header: {}, count: 'many' }), 'etcd /v3/kv/range (count_only): field count is "many", want a non-negative integer'],
    [() => int64Field({ n: '99999999999999999999' }, 'n', 'here'), 'here: field n is "99999999999999999999"'],
  ])('refuses malformed answers (%#)', (f, want) => {
    expect(f).toThrow(want);
  });

  it.each([
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'etcd refused the client certificate (--cert/--key): it is not signed by a CA etcd trusts (boom)'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', "etcd's serving certificate is not signed by --cacert (boom)"],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "etcd's serving certificate does not name the --endpoint host (boom)"],
    ['ECONNREFUSED', 'boom'],
  ])('explains %s', (code, want) => {
    expect(describeRequestError(Object.assign(new Error('boom\n'), { code }))).toBe(want);
  });
});
