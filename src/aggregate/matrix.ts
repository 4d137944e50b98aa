/** A dense models × samples matrix of binary outcomes; `values[m * samples + s]` is 0, 1, or NaN (not measured). */
export interface BinaryMatrix {
  models: string[];
  sampleKeys: string[];
  values: Float32Array;
  /** Per sample category index into `categoryNames` (or null). */
  categories: Int32Array | null;
  categoryNames: string[];
}
