import seedrandom from 'seedrandom';

/**
 * Returns the seed to give tfjs's seeded random ops (randomNormal, randomUniform) for a seed
 * >= 0. Those ops treat a seed of 0 as no seed and draw different numbers on every call, so 0
 * maps to 1 and every seed moves up by one.
 */
export function tfjsSeed(seed: number): number {
  return seed + 1;
}

/** State of a `SeededRandom`, stored in checkpoints so a resumed run draws the same numbers. */
export type RandomState = object;

/**
 * A seeded pseudo-random generator (seedrandom's Alea) whose state can be saved and restored.
 * Training draws every random number from one of these: data order, label choices and the
 * seeds of tensor ops (noise, dropout).
 */
export class SeededRandom {
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;

  constructor(seed: number | string, state?: RandomState) {
    this.prng = state
      ? seedrandom.alea('', { state: state as seedrandom.State.Alea })
      : seedrandom.alea(String(seed), { state: true });
  }

  /** Returns a float in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Returns an integer in [0, max). */
  int(max: number): number {
    return Math.floor(this.prng() * max);
  }

  /** Returns a seed for a tfjs random op, so each op draws its own reproducible stream. */
  opSeed(): number {
    return this.prng.int32() >>> 0;
  }

  /** Shuffles an array in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[] | Int32Array): T[] | Int32Array {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = items[i];
      items[i] = items[j];
      items[j] = swap;
    }
    return items;
  }

  state(): RandomState {
    return this.prng.state();
  }
}
