"""Camera sources implementing devices.protocols.Camera.

OpenCvCamera wraps a real capture device, file or stream; SimulatedCamera plays
prepared frame sequences for the demo, QA and tests. `synthetic` builds such
sequences (live-like motion, photo replays) from a single portrait.
"""

from devices.camera.buffer import FrameBuffer
from devices.camera.opencv import OpenCvCamera, parse_source
from devices.camera.simulated import SimulatedCamera, load_sequence

__all__ = ["FrameBuffer", "OpenCvCamera", "SimulatedCamera", "load_sequence", "parse_source"]
