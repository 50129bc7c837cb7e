import { describe, expect, it } from 'vitest';
import { runPure, simpleTemplate } from '../testdata/helpers.js';
import { dropNodeLocalProbeHosts } from './probes.js';

describe('dropNodeLocalProbeHosts', () => {
  const { ctx } = simpleTemplate('kube-apiserver', []);
  const node = { ip: '192.0.2.10' };
  const input = {
    spec: {
      containers: [
        {
          name: 'kube-apiserver',
          livenessProbe: { httpGet: { host: '192.0.2.10', path: '/livez', port: 6443 } },
          readinessProbe: { httpGet: { host: '127.0.0.1', path: '/readyz', port: 6443 } },
          startupProbe: { tcpSocket: { host: '192.0.2.10', port: 6443 } },
        },
        { name: 'side', livenessProbe: { tcpSocket: { host: '192.0.2.10', port: 1 } } },
      ],
    },
  };
  it('drops hosts equal to the node IP, keeps the others', () => {
    expect(runPure(dropNodeLocalProbeHosts, input, { ...ctx, node })).toEqual({
      spec: {
        containers: [
          {
            name: 'kube-apiserver',
            livenessProbe: { httpGet: { path: '/livez', port: 6443 } },
            readinessProbe: { httpGet: { host: '127.0.0.1', path: '/readyz', port: 6443 } },
            startupProbe: { tcpSocket: { port: 6443 } },
          },
          { name: 'side', livenessProbe: { tcpSocket: { port: 1 } } },
        ],
      },
    });
  });
  it('keeps everything when the node IP is unknown', () => {
    expect(runPure(dropNodeLocalProbeHosts, input, ctx)).toEqual(input);
  });
});
