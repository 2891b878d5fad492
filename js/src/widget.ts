import type { Render } from "@anywidget/types";

const render: Render = ({ el }) => {
  el.textContent = "pixel-liberation";
};

export default { render };
