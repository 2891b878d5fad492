// Free a canvas's pixels now instead of at the next garbage collection: shrinking it to 0x0
// drops its width*height*4 backing store at once. Used where a full-size scratch or display
// canvas is done with (a decode, a view or editor that goes away on a cell re-run).

/** Shrink a canvas to 0x0, which frees its pixel backing store at once. */
export function releaseCanvas(canvas: { width: number; height: number } | null | undefined): void {
  if (canvas) canvas.width = canvas.height = 0;
}
