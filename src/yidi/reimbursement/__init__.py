"""Manual reimbursement (手工报销), reviews of direct settlements (复核) and payments to persons."""
