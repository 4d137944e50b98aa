/**
 * Ordinary English prose (written for Assay, no source text reused), used by `assay tokens` as the contrast to
 * UUID haystacks when reporting characters per token. About 3,000 characters of narrative and expository sentences
 * with everyday vocabulary, punctuation, a few numbers and names.
 */
export const PROSE = `The harbour town woke slowly on Tuesdays. Before the first ferry left at half past six, the baker on Quay Street had already sold most of his rye loaves to fishermen who preferred bread that kept for a week. His daughter, who had moved back from the city two winters ago, kept the accounts in a green notebook and argued with him every morning about whether to open a second shop near the station.

"People want coffee more than bread now," she said, counting coins into paper rolls.

"People want both," he answered, "but they only remember the bread."

By eight o'clock the market square filled with stalls. A woman sold honey from three different hillsides and let customers taste each one from a wooden spoon, explaining that the heather honey was darker because the bees had worked late into September. Across from her, a retired schoolteacher repaired clocks under a striped umbrella. He never advertised; people simply brought him whatever had stopped, and he told them, without looking up, when to come back.

The town council met on the first floor of the old customs house. Its agenda that week was ordinary: a complaint about seagulls, a proposal to repaint the railings along the promenade, and a longer discussion about the school bus, which arrived eleven minutes late on most days because the driver stopped to help an elderly neighbour with her shopping. Nobody wanted to be the one to suggest that he stop. In the end the council voted to move the timetable by ten minutes and thanked the driver in the minutes of the meeting.

In the afternoon the wind turned and the sky over the bay went the colour of slate. Children walking home from school raced the first drops of rain along the sea wall, and the clock mender folded his umbrella and carried his tools into the library, where the librarian let him work at the long table by the window as long as he kept his screws in a saucer. She was writing a short history of the harbour for the town's two-hundredth anniversary and asked him questions while he worked: when the lighthouse had been automated, which families had owned the boatyard, whether it was true that a whale had once swum into the inner harbour. He remembered the whale. It had stayed for two days, he said, and half the county had come to look at it.

Evening brought the ferry back with a handful of tourists, damp and cheerful, who asked the way to the guest houses and then stood for a long time on the quay watching the light come on at the end of the pier. The baker's daughter locked the shop, added the day's takings to the green notebook, and wrote underneath, in small letters, a figure she had been working out for months: the rent of the empty unit by the station. She did not show it to her father. Not yet.
`;
