"""Qt-free scene building for any pyvista plotter (on screen or off screen)."""
