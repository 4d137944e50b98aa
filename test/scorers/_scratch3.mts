import { createScorer } from '../../src/scorers/registry.ts';
const math = createScorer('math');
let t = Date.now();
console.log(await math.score({ id: 'x', input: 'q', target: '1-12i', metadata: {} }, '\\boxed{-12i+1}'), Date.now() - t);
t = Date.now();
console.log(await math.score({ id: 'x', input: 'q', target: '\\log_{10} 5', metadata: {} }, '\\boxed{\\log_{10}5}'), Date.now() - t);
t = Date.now();
console.log(await math.score({ id: 'x', input: 'q', target: '|x|', metadata: {} }, '\\boxed{|x|+0}'), Date.now() - t);
