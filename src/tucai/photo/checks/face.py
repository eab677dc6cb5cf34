"""face.count: exactly one face in the photo."""

from __future__ import annotations

from tucai.photo.checks._base import CheckResult, Context, result


def check_face_count(ctx: Context) -> CheckResult:
    n = len(ctx.a.faces)
    if n == 0 and ctx.a.extras.get("upside_down"):
        fail = ("照片上下颠倒，请把照片转正（不得旋转人像）", "The photo is upside down: turn it upright")
    elif n == 0:
        fail = ("未检测到人脸，请正对镜头并确保面部无遮挡", "No face found: face the camera with nothing covering the face")
    else:
        fail = (f"画面中有 {n} 张人脸，只能有一人入镜", f"{n} faces in the picture: only the student may be in frame")
    r = result("face.count", n == 1, n, 1, fail=fail, passed=("单人人像", "One face"))
    if n == 1 and ctx.a.faces[0].source == "person":
        # Found as a person (pose model), not as a face: the face is turned away or hidden. One person is in
        # the picture, but whether one *face* is cannot be measured: null, so the verdict is a retake with
        # this message (face.count is required-measurable), not a pass nobody reads.
        r.ok = None
        r.message_zh, r.message_en = ("画面中有一人，但看不到正脸，请正对镜头", "A person is in the picture but the face is"
                                      " not visible: face the camera")
    elif n == 1 and ctx.a.landmarks is None:
        # A face was found but its landmarks were not: every face check will be unmeasurable.
        r.message_zh, r.message_en = "检测到一张人脸，但面部特征点定位失败", "One face, but its landmarks could not be located"
    return r
