"""Qt-free scene building for any pyvista plotter (on screen or off screen), or for the bare
off-screen VTK view of the render process (:mod:`reviewer.render.offscreen`).

Off-screen plotters and views render through EGL (Mesa's software rasteriser here), never through an
X11 window: GLX off-screen windows beside Qt's on-screen GL contexts crashed Mesa in one
process, and without a display GLX only prints a warning before falling back to EGL anyway.
pyvistaqt's on-screen views create their own window type and are not affected.
"""

import os

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
