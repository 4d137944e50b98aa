/** The part of pokersolver (npm, 2.1; no types of its own) that the hand-evaluator check uses. */
declare module 'pokersolver' {
  interface SolvedHand {
    /** Category name: `High Card`, `Pair`, `Two Pair`, `Three of a Kind`, `Straight`, `Flush`, `Full House`, `Four of a Kind`, `Straight Flush`. */
    name: string;
    /** Description, e.g. `Royal Flush`, `Straight, 5 High`. */
    descr: string;
    /** Category rank, 1 (high card) to 9 (straight flush) in the standard game. */
    rank: number;
  }
  const pokersolver: {
    Hand: {
      /** Best hand from cards written rank then suit (`As`, `Td`). */
      solve(cards: string[]): SolvedHand;
      /** The winning hands (more than one on a tie). */
      winners(hands: SolvedHand[]): SolvedHand[];
    };
  };
  export default pokersolver;
}
