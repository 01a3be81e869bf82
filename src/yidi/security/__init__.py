"""Security: who may do what. Sign-in for persons, staff and institution systems; signed gateway requests;
personal data encrypted at rest and masked in answers and logs."""
