"""The printed forms of reimbursement (forms 1–5 of the issue): each module holds one form's template as data (its
title, the fields in order, the undertaking's wording with placeholders) and a `fill` function from plain values
to PDF bytes. No database here: `yidi.reimbursement.documents` reads the facts and checks who may print them.

1 `registration` 异地就医登记备案表 · 2 `undertaking` 个人承诺书 · 3 `injury` 外伤无第三方责任承诺书 ·
4 `outside_care` 住院期间外院检查治疗或定点药店购药单 · 5 `settlement_sheet` 异地就医住院结算单.
"""
