// Package deadline is the one deadline engine: due dates counted in Chinese
// working days, the light (red / yellow / green / done / not started) with
// written reasons, reminder schedules and the escalation of supervision
// notices. Tasks, milestones, appeals, disclosure requests and rectifications
// all use it, so the rules live in one place.
//
// Everything here is a pure function of its inputs: the calendar and "today"
// are passed in, nothing is read from a clock or a database.
package deadline
