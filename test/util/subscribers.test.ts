/** Subscribers (lib/util/subscribers.ts): every subscription comes with its own way out. */
import assert from 'node:assert/strict';
import { Subscribers } from '../../lib/util/subscribers.js';

describe('Subscribers', () => {
  it('calls every subscriber in order', () => {
    const s = new Subscribers<number>();
    const got: string[] = [];
    s.add((v) => got.push(`a${v}`));
    s.add((v) => got.push(`b${v}`));
    s.emit(1);
    assert.deepEqual(got, ['a1', 'b1']);
  });

  it('add() returns the unsubscriber; twice is harmless', () => {
    const s = new Subscribers<number>();
    const got: number[] = [];
    const off = s.add((v) => got.push(v));
    off();
    off();
    s.emit(1);
    assert.deepEqual([got, s.size], [[], 0]);
  });

  it('a subscriber removed during an emit is still called by that emit, not the next', () => {
    const s = new Subscribers<number>();
    const got: string[] = [];
    let offB = (): void => undefined;
    s.add(() => offB());
    offB = s.add((v) => got.push(`b${v}`));
    s.emit(1);
    s.emit(2);
    assert.deepEqual(got, ['b1']);
  });

  it('clear() drops them all', () => {
    const s = new Subscribers<void>();
    s.add(() => assert.fail('called'));
    s.clear();
    s.emit();
    assert.equal(s.size, 0);
  });
});
