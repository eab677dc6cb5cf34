"""Forms for manual schedule edits; choices are scoped to the campaign being edited."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tucai.campaigns.models import Campaign, SchoolClass, TimeSlot


class ScheduleMoveForm(forms.Form):
    school_class = forms.ModelChoiceField(queryset=SchoolClass.objects.none(), label=_("班级"))
    slot = forms.ModelChoiceField(queryset=TimeSlot.objects.none(), label=_("时段"))
    position = forms.IntegerField(label=_("顺序"), min_value=0, required=False,
                                  help_text=_("在该时段中的位置（从 0 开始）；留空排在最后"))

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = SchoolClass.objects.filter(campaign=campaign)
        self.fields["slot"].queryset = TimeSlot.objects.filter(campaign=campaign)


class ScheduleUnassignForm(forms.Form):
    school_class = forms.ModelChoiceField(queryset=SchoolClass.objects.none(), label=_("班级"))

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = SchoolClass.objects.filter(campaign=campaign)
