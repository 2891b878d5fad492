// Entry of widget/static/bench.js, the browser half of the accuracy-vs-quantization benchmark.
//  - `headless()`: the API the headless-Chromium runner (segmentation/evaluation/browser_runtime.py) calls
//    through page.evaluate (headless.ts).
//  - default export `{ render }`: the in-tab benchmark widget (widget/benchmark.py), which gets
//    its assets from the kernel in acknowledged chunks (widget.ts).
import render from "./widget";

export { headless, type HeadlessBench, type HeadlessLoad, type HeadlessRun, type Served, type ServedImage } from "./headless";
export default { render };
