"""Camera sources implementing devices.protocols.Camera.

OpenCvCamera wraps a real capture device, file or stream. The simulated camera that
plays prepared frame sequences lives with the other simulators
(devices.simulated.camera), so production code cannot reach it through this package.
"""

from devices.camera.buffer import FrameBuffer
from devices.camera.opencv import OpenCvCamera, parse_source

__all__ = ["FrameBuffer", "OpenCvCamera", "parse_source"]
