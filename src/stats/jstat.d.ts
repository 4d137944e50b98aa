/** jstat ships no TypeScript types; `distributions.ts` narrows it to the functions Assay uses. */
declare module 'jstat' {
  const jStat: unknown;
  export default jStat;
}
