"""Claims: the allocation table, the monthly claim, the patient trace and exports."""
