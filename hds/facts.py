"""The facts a timeline states about each segment of an episode.

These names are the vocabulary of the rulebooks: a rule's condition may use
only these. Every fact is a yes/no answer that is constant over a segment;
the timeline does all the date arithmetic so that rules never compare dates.
Symbols as in RULES.md: D discharge, P first day after the free period,
A Care Act assessment, K positive CHC checklist, C CHC decision, Cchc a
decision of CHC eligibility, F self-funder charge date, X death,
E the earliest of P, A, Cchc and F.
"""

FACTS: dict[str, str] = {
    "before_discharge": "the day is before the discharge date D",
    "after_death": "the person died before this day (after X)",
    "outside_schemes": "the discharge date falls in no scheme's window",
    "bau_commissioned": "the episode is business-as-usual commissioned activity",
    "isolation_service": "the episode is a COVID-19 isolation service",
    "restart": "the episode restarts the person's existing package",
    "admission_avoidance": "the discharge is an A&E attendance where admission was avoided",
    "within_free_period": "the day is before P, the first day after the free period",
    "free_care_continues": "the day is before E: nothing has ended the free care yet",
    "ended_early_by_assessment": "a Care Act assessment ended the free care before P",
    "ended_early_by_chc": "a decision of CHC eligibility ended the free care before P",
    "ended_early_by_charge_date": "a self-funder's agreed charge date ended the free care before P",
    "chc_pending_at_free_period_end": "a positive checklist came before P and the CHC decision was not made before P",
    "self_funder_charging": "the day is on or after the self-funder's agreed charge date F",
    "chc_decision_pending": "the CHC/FNC decision C has not been made by this day",
    "chc_eligible": "the CHC decision found the person eligible for CHC",
    "care_act_assessment_pending": "the Care Act assessment A has not been completed by this day",
    "chc_funding_started": "the day is on or after a decision of CHC eligibility",
}

FUNDERS: dict[str, str] = {
    "hds": "the discharge scheme (claimed from NHS England)",
    "ccg": "the CCG, while a CHC/FNC assessment is pending after the free period",
    "council": "the council, while a Care Act assessment is pending after the free period",
    "bau": "normal funding routes",
    "excluded": "nobody: a day that should not be paid (a data-quality finding)",
}
