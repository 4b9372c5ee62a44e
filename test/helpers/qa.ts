// Crafted QA questions for tests.
import type { SquadExample } from '../../src/data/squad.js';

const ANIMALS = ['cat', 'dog', 'bird', 'fish', 'horse', 'mouse', 'goat', 'sheep'];
const COLOURS = ['red', 'blue', 'green', 'yellow', 'black', 'white', 'brown', 'pink'];

/** Contexts of three "The <animal> is <colour>." sentences; the question asks one animal's colour. */
export function colourQuestions(n: number, seed: number, prefix: string): SquadExample[] {
  let s = seed;
  const rand = (k: number) => ((s = (s * 16807) % 2147483647) % k);
  return Array.from({ length: n }, (_, i) => {
    const animals = [...ANIMALS].sort(() => rand(3) - 1).slice(0, 3);
    const colours = animals.map(() => COLOURS[rand(COLOURS.length)]!);
    const context = animals.map((a, k) => `The ${a} is ${colours[k]}.`).join(' ');
    const k = rand(3);
    const answerStart = context.indexOf(`The ${animals[k]} is `) + `The ${animals[k]} is `.length;
    return { id: `${prefix}${i}`, title: 'colours', context, question: `What colour is the ${animals[k]}?`, answers: [{ text: colours[k]!, answerStart }] };
  });
}
