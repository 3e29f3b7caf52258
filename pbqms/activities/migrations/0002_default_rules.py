"""The default rules of organisational life, from 《中国共产党支部工作条例（试行）》 (2018).

Each rule cites its article; every one is configurable (frequency, target, host, attendance),
and a committee may add its own or switch one off. Articles as in the 2018 text:
第十一条 党员大会一般每季度召开1次; 第十二条 支部委员会会议一般每月召开1次; 第十三条 党小组会一般
每月召开1次; 第十六条 三会一课 (党课: the 条例 names no number — quarterly is the common practice
and this system's default — and 党委(党组)书记/支部书记 lecture at least once a year);
第十七条 每月相对固定1天开展主题党日; 第十八条 每年至少召开1次组织生活会; 第十九条 谈心谈话每年
一般不少于1次; 第二十条 一般每年开展1次民主评议党员.
"""

from django.db import migrations

ART = "《中国共产党支部工作条例（试行）》"
RULES = [
    # code, name, kind, frequency, target, host, citation
    ("ASSEMBLY_Q", "支部党员大会每季度至少召开1次", "assembly", "quarter", "branch", "", f"{ART}第十一条"),
    ("COMMITTEE_M", "支委会每月至少召开1次", "committee", "month", "branch", "", f"{ART}第十二条"),
    ("GROUP_M", "党小组会每月至少召开1次", "group", "month", "group", "", f"{ART}第十三条"),
    ("LECTURE_Q", "党课每季度至少1次", "lecture", "quarter", "branch", "", f"{ART}第十六条（三会一课）"),
    ("LECTURE_SEC_Y", "支部书记每年至少讲1次党课", "lecture", "year", "branch", "secretary", f"{ART}第十六条"),
    ("THEME_DAY_M", "每月开展1次主题党日", "theme_day", "month", "branch", "", f"{ART}第十七条"),
    ("LIFE_MEETING_Y", "每年至少召开1次组织生活会", "life_meeting", "year", "branch", "", f"{ART}第十八条"),
    ("TALK_Y", "谈心谈话每年不少于1次", "talk", "year", "branch", "", f"{ART}第十九条"),
    ("REVIEW_Y", "每年开展1次民主评议党员", "review", "year", "branch", "", f"{ART}第二十条"),
]


def add(apps, schema_editor):
    Rule = apps.get_model("activities", "ComplianceRule")
    for code, name, kind, frequency, target, host, citation in RULES:
        Rule.objects.get_or_create(code=code, defaults={
            "name": name, "kind": kind, "frequency": frequency, "target": target, "host": host,
            "citation": citation, "min_count": 1,
            "remind_days": {"month": 5, "quarter": 15, "year": 30}[frequency]})


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
