from django import forms
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_MB = 50


class RosterUploadForm(forms.Form):
    file = forms.FileField(label=_("名单文件"), help_text=_(".xlsx 或 .csv（UTF-8 或 GBK）；表头行可在标题行之下"))
    full = forms.BooleanField(label=_("这是完整名单"), required=False,
                              help_text=_("勾选后，名单中没有的学生将被标记为“已移出”（不会删除）"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        name = (f.name or "").lower()
        if not name.endswith((".xlsx", ".xlsm", ".csv", ".txt")):
            raise forms.ValidationError(_("请上传 .xlsx 或 .csv 文件（旧版 .xls 请先另存为 .xlsx）"))
        if f.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(_("文件过大（最大 %(mb)s MB）") % {"mb": MAX_UPLOAD_MB})
        return f
