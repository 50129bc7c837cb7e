import { describe, expect, it } from 'vitest';
import { parseGoDuration } from './duration.js';

describe('parseGoDuration', () => {
  it.each<[string, number]>([
    ['5m', 300e9],
    ['1h30m', 5400e9],
    ['1.5h', 5400e9],
    ['90s', 90e9],
    ['250ms', 250e6],
    ['3us', 3e3],
    ['7ns', 7],
    ['0s', 0],
  ])('%s = %d ns', (text, ns) => {
    expect(parseGoDuration(text)).toBe(ns);
  });

  it.each(['', '5', 'm', '5 m', '-5m', '1d', '5µs', '.5s', '5m '])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});
