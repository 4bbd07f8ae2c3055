"""公示公告 and 结果公告 are public: they cite document numbers, never our file names or line numbers."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from models import Notice
from models.citation import has_reference, public_citation
from notifications.announcements import opening_from_db, render_opening, render_result, result_from_db
from tasks.notice.publication import close_due_notices, open_notice

INTERNAL = re.compile(r"\.txt|L\d+")


def test_a_citation_keeps_its_document_numbers_and_drops_our_references():
    assert public_citation("冀工信中小函〔2021〕116号 003_610bb7f52b8dce8c.txt L10287–10291（对拟认定的……公示五个工作日）") \
        == "冀工信中小函〔2021〕116号"
    assert public_citation("财建〔2021〕2号 001_29593a7c351fc6b7.txt L41–43；003_610bb7f52b8dce8c.txt L270–280") == "财建〔2021〕2号"
    assert public_citation("青海认定管理办法第十二条 003_610bb7f52b8dce8c.txt L29676–29678（每三年开展一次复核；撤销）；"
                           "青海2021-04-30通知 L29437–29441（未提交的予以撤销）") == "青海认定管理办法第十二条；青海2021-04-30通知"
    assert public_citation("《优质中小企业梯度培育管理暂行办法》（工信部企业〔2022〕63号）") \
        == "《优质中小企业梯度培育管理暂行办法》（工信部企业〔2022〕63号）"
    assert public_citation(None) == "" and not has_reference(public_citation("工信厅企业函〔2021〕79号 003_6.txt L978"))


def test_a_citation_that_starts_with_a_file_is_named_by_the_profile_document_holding_those_lines():
    from tasks.reference.programmes import get_profile

    documents = get_profile("sichuan-key-little-giant-batch2").documents
    assert public_citation("004_003bf4f7a3377d33.txt L77", documents).startswith("《关于开展")
    assert public_citation("财建〔2021〕2号 001_29593a7c351fc6b7.txt L45；000_44edbe0ec2e74b35.txt L7–11",
                           get_profile("key-little-giant-funding").documents) \
        == "财建〔2021〕2号；《关于反馈支持\"专精特新\"中小企业高质量发展合规性审核意见的预通知》"


def test_the_published_notices_of_a_hebei_round_cite_the_document_number_only(engine, clock, hebei_call):
    with engine.begin() as c:
        [notice_id] = open_notice(c, hebei_call)
    with engine.connect() as c:
        stored = c.execute(select(Notice.cite).where(Notice.id == notice_id)).scalar_one()
        opening = render_opening(opening_from_db(c, notice_id))
    assert has_reference(stored)                      # the record keeps our full reference …
    clock.advance(timedelta(days=14))
    with engine.begin() as c:
        close_due_notices(c)
    with engine.connect() as c:
        result = render_result(result_from_db(c, notice_id))
    for page in (opening, result):                    # … the public pages do not
        assert "根据冀工信中小函〔2021〕116号有关规定" in page
        assert not INTERNAL.search(page), INTERNAL.search(page)
