"""Which engine computes a mask: the kernel twin, and the plan for WebGPU (``webgpu_plan``)."""
