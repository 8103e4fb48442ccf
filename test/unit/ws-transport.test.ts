import { describe, expect, it } from 'vitest';
import { messageMeter } from '../../src/http/ws-transport.js';

/** A meter on a clock the test moves by hand. */
function meterAt(perSecond: number) {
  let now = 1_000;
  const meter = messageMeter(perSecond, () => now);
  return {
    take: () => meter.take(),
    advance(ms: number) {
      now += ms;
    },
    /** How many messages it lets through right now, taking until it refuses. */
    drain() {
      let taken = 0;
      while (meter.take()) taken++;
      return taken;
    },
  };
}

describe('the WebSocket message meter', () => {
  it('lets a burst of one second’s worth through at once, then refuses', () => {
    const meter = meterAt(20);
    expect(meter.drain()).toBe(20);
    expect(meter.take()).toBe(false);
  });

  it('refills at the rate: a tenth of a second later, a tenth of the burst', () => {
    const meter = meterAt(20);
    meter.drain();
    meter.advance(100);
    expect(meter.drain()).toBe(2);
  });

  it('never holds more than one second’s worth, however long the client was quiet', () => {
    const meter = meterAt(20);
    meter.advance(60_000);
    expect(meter.drain()).toBe(20);
  });

  it('keeps a client that stays at the rate going indefinitely', () => {
    const meter = meterAt(10);
    meter.drain();
    for (let second = 0; second < 100; second++) {
      for (let i = 0; i < 10; i++) {
        meter.advance(100);
        expect(meter.take()).toBe(true);
      }
    }
  });
});
