// Toolbar icons: 16x16 line drawings in currentColor, so they follow the JupyterLab theme's
// font colour (light, dark, high contrast) like JupyterLab's own toolbar icons.
const SVG_NS = "http://www.w3.org/2000/svg";

/** Path data (viewBox 0 0 16 16, stroked, no fill) per icon name. */
export const ICONS = {
  brush: "M10.5 2.5l3 3-6 6-3-3zM4.5 8.5c-2 0-2.5 2-2.5 3.5 0 1 -.5 1.5-1 2 2.5 0 5-.5 5.5-3",
  erase: "M9 2.5l4.5 4.5-6 6H4.5L2.5 11zM6 6l4.5 4.5M7.5 13.5h6",
  keep: "M2.5 8.5l3.5 3.5 7.5-8",
  remove: "M3.5 3.5l9 9M12.5 3.5l-9 9",
  pan: "M8 1.5v13M1.5 8h13M8 1.5l-2 2M8 1.5l2 2M8 14.5l-2-2M8 14.5l2-2M1.5 8l2-2M1.5 8l2 2M14.5 8l-2-2M14.5 8l-2 2",
  zoomIn: "M7 2.5a4.5 4.5 0 1 0 0 9 4.5 4.5 0 1 0 0-9M10.2 10.2l4 4M5 7h4M7 5v4",
  zoomOut: "M7 2.5a4.5 4.5 0 1 0 0 9 4.5 4.5 0 1 0 0-9M10.2 10.2l4 4M5 7h4",
  fit: "M2.5 6V2.5H6M10 2.5h3.5V6M13.5 10v3.5H10M6 13.5H2.5V10",
  fill: "M3 8a5 5 0 1 0 10 0 5 5 0 1 0-10 0M6 8a2 2 0 1 0 4 0 2 2 0 1 0-4 0",
  feather: "M13.5 2.5c-6 0-9.5 4-10 11M13.5 2.5c0 5-3 8.5-8 9M6 10l-2.5 3.5",
  invert: "M8 2.5a5.5 5.5 0 1 0 0 11zM8 2.5a5.5 5.5 0 1 1 0 11",
  undo: "M5.5 3.5l-3 3 3 3M2.5 6.5h7a4 4 0 0 1 0 8h-3",
  redo: "M10.5 3.5l3 3-3 3M13.5 6.5h-7a4 4 0 0 0 0 8h3",
  reset: "M3 8a5 5 0 1 0 1.5-3.5M4.5 1.5v3h3",
  image: "M2.5 3.5h11v9h-11zM2.5 10.5l3-3 3 3 2-2 3 3M10 6.5a1 1 0 1 0 .01 0",
  download: "M8 2.5v8M4.5 7l3.5 3.5L11.5 7M2.5 13.5h11",
  mask: "M2.5 2.5h11v11h-11zM8 2.5v11M8 5.5h5.5M8 8.5h5.5M8 11.5h5.5",
  help: "M6 6a2 2 0 1 1 3 1.7c-.7.4-1 .8-1 1.8M8 12v.5",
} as const;

export type IconName = keyof typeof ICONS;

/** An inline SVG icon (aria-hidden: its button carries the label). */
export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "ple-icon");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.appendChild(path);
  return svg;
}
