import { describe, expect, it } from 'vitest';
import { mainCommand, runPure, simpleTemplate } from '../testdata/helpers.js';
import { addPortSharing, dropHostPortsForSurge } from './ports.js';

describe('addPortSharing', () => {
  it.each([
    [[], ['--permit-port-sharing=true']],
    [['--permit-port-sharing=false', '--a=1'], ['--permit-port-sharing=true', '--a=1']],
    [['--permit-port-sharing'], ['--permit-port-sharing=true']],
  ])('%j → %j', (flags, want) => {
    const { template, ctx } = simpleTemplate('kube-apiserver', flags);
    expect(mainCommand(runPure(addPortSharing, template, ctx))).toEqual(['kube-apiserver', ...want]);
  });
});

describe('dropHostPortsForSurge', () => {
  const { ctx } = simpleTemplate('kube-apiserver', []);
  it('inlines named probe ports and removes ports from every container', () => {
    const input = {
      spec: {
        containers: [
          {
            name: 'kube-apiserver',
            ports: [{ containerPort: 6443, name: 'probe-port', protocol: 'TCP' }],
            livenessProbe: { httpGet: { path: '/livez', port: 'probe-port', scheme: 'HTTPS' } },
            readinessProbe: { tcpSocket: { port: 'probe-port' } },
            startupProbe: { httpGet: { path: '/livez', port: 'unknown-name' } },
          },
          { name: 'side', ports: [{ containerPort: 9000 }], livenessProbe: { exec: { command: ['true'] } } },
          { name: 'plain' },
        ],
        initContainers: [{ name: 'init', ports: [{ containerPort: 1 }] }],
      },
    };
    expect(runPure(dropHostPortsForSurge, input, ctx)).toEqual({
      spec: {
        containers: [
          {
            name: 'kube-apiserver',
            livenessProbe: { httpGet: { path: '/livez', port: 6443, scheme: 'HTTPS' } },
            readinessProbe: { tcpSocket: { port: 6443 } },
            startupProbe: { httpGet: { path: '/livez', port: 'unknown-name' } },
          },
          { name: 'side', livenessProbe: { exec: { command: ['true'] } } },
          { name: 'plain' },
        ],
        initContainers: [{ name: 'init' }],
      },
    });
    expect(runPure(dropHostPortsForSurge, {}, ctx)).toEqual({});
  });
});
