"""A generated roster workbook of any size, for tests and benchmarks (deterministic for a seed).

    write_roster(path, members=100_000, parent="GRP", prefix="S")

writes a Units sheet with members // 30 branches (each with one party group) under the
existing unit `parent` (or under a new committee when `parent` is None) and a Members sheet
of `members` people with valid, unique ID numbers.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import IO

from pbqms.members.idnumber import check_digit

from . import columns as C
from .exporter import new_workbook

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞建国志永海波宁晓东雪梅林斌辉玲燕婷亮宇浩"
POSTS = ("采煤工", "掘进工", "机电维修工", "通风工", "安全员", "技术员", "调度员", "会计", "办公室职员", "区队长")
EDUCATIONS = ("高中/中专", "大专", "本科", "本科", "硕士研究生", "初中")
STATUSES = (("正式党员", 70), ("预备党员", 6), ("发展对象", 4), ("入党积极分子", 6), ("申请人", 4), ("群众", 10))
BASE_BIRTH = dt.date(1962, 1, 1)
BIRTH_SPAN = 14000  # days: births from 1962 to 2000


def id_number(seq: int, male: bool) -> tuple[str, dt.date]:
    """A valid, unique (for seq < 7,000,000) resident ID number and its birth date."""
    born = BASE_BIRTH + dt.timedelta(days=seq % BIRTH_SPAN)
    order = ((seq // BIRTH_SPAN) % 500) * 2 + (1 if male else 0)
    body = f"340404{born:%Y%m%d}{order:03d}"
    return body + check_digit(body), born


def write_roster(out: str | IO[bytes], members: int, *, parent: str | None = "GRP", prefix: str = "S",
                 per_branch: int = 30, seed: int = 1, lang: str = "zh-hans", start: int = 0) -> list[str]:
    """Write the workbook; returns the branch codes."""
    rnd = random.Random(seed)
    wb, ws_units, ws_members = new_workbook(lang, instructions=False)
    top = parent
    if parent is None:
        top = f"{prefix}C"
        ws_units.append([top, "合成测试党委", "党委", None, None, 0, dt.date(2000, 1, 1), None])
    n_branches = max(1, -(-members // per_branch))
    branches = []
    for b in range(n_branches):
        code = f"{prefix}{b + 1:05d}"
        branches.append(code)
        ws_units.append([code, f"第{b + 1}党支部", "党支部", top, "普通党支部", b + 1, dt.date(2005, 7, 1),
                         POSTS[b % len(POSTS)] + "区队"])
        ws_units.append([f"{code}G1", f"第{b + 1}党支部第一党小组", "党小组", code, None, 1, None, None])
    weights = [w for _s, w in STATUSES]
    labels = [s for s, _w in STATUSES]
    ladder = ["申请人", "入党积极分子", "发展对象", "预备党员", "正式党员"]
    for i in range(members):
        seq = start + i
        male = rnd.random() < 0.7
        number, born = id_number(seq, male)
        status = rnd.choices(labels, weights)[0]
        branch = branches[i // per_branch]
        steps: dict[str, dt.date] = {}
        if status != "群众":
            day = max(born + dt.timedelta(days=365 * 19), dt.date(1985, 1, 1)) + dt.timedelta(days=rnd.randint(0, 3000))
            for step in ladder[: ladder.index(status) + 1]:
                steps[step] = min(day, dt.date(2025, 12, 31))
                day += dt.timedelta(days=rnd.randint(200, 500))
        earlier = [steps.get(s) if s != status else None for s in ladder[:-1]]
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if rnd.random() < 0.7 else "")
        ws_members.append([
            name, "男" if male else "女", "汉族", born, rnd.choice(EDUCATIONS), number,
            f"13{rnd.randint(100000000, 999999999)}", rnd.choice(POSTS), status, steps.get(status), branch,
            f"{branch}G1" if rnd.random() < 0.8 else None, steps.get("预备党员"), *earlier, None])
    assert len(C.MEMBER_COLUMNS) == 18
    wb.save(out)
    return branches
