// The few Workers-runtime (workerd) stream APIs that pump.js uses and that
// TypeScript's DOM library lacks.

/** A TransformStream that passes exactly `length` bytes and fails on any other total. */
declare class FixedLengthStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(length: number | bigint);
}

/** A TransformStream of bytes that passes them unchanged (a byte stream on its readable side). */
declare class IdentityTransformStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor();
}

interface ReadableStreamBYOBReader {
  /** workerd: reads at least `min` bytes (fewer only at the end) into `view`. */
  readAtLeast?(min: number, view: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>>;
}
