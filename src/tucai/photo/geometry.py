"""Face geometry handed from analysis to normalisation and checks (pixel coordinates, y down)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaceGeometry:
    """Where the head is, in the coordinates of the image it was measured on.

    ``crown_y`` is the top of the hair (not the forehead); ``eye_y`` the mean height of the two eye
    centres; ``eye_mid_x`` the midpoint between them; ``face_left``/``face_right`` the cheek-to-cheek
    extent (the spec's "face width"); ``chin_y`` the bottom of the chin."""

    crown_y: float
    eye_y: float
    eye_mid_x: float
    face_left: float
    face_right: float
    chin_y: float

    @property
    def face_width(self) -> float:
        return self.face_right - self.face_left

    @property
    def centre_x(self) -> float:
        return (self.face_left + self.face_right) / 2

    def scaled(self, s: float, dx: float = 0.0, dy: float = 0.0) -> FaceGeometry:
        """The same geometry after cropping at (dx, dy) and then scaling by ``s``."""
        return FaceGeometry(
            crown_y=(self.crown_y - dy) * s, eye_y=(self.eye_y - dy) * s, eye_mid_x=(self.eye_mid_x - dx) * s,
            face_left=(self.face_left - dx) * s, face_right=(self.face_right - dx) * s, chin_y=(self.chin_y - dy) * s,
        )
