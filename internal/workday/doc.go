// Package workday is the Chinese working-day (工作日) calendar.
//
// Every due date in biaogan is counted in working days as set by the State
// Council's yearly holiday notice: holidays are off even on weekdays, and
// adjusted workdays (调休) are worked even on weekends. The notices for
// 2015–2026 are embedded; an administrator can store newer or corrected years
// (Calendar.SetYear), and a year without data falls back to Monday–Friday,
// which the UI warns about from 1 December (Calendar.MissingNextYear).
//
// The package is pure: no global state, no clock, no I/O beyond the readers
// it is handed. A Calendar is safe for concurrent use.
package workday
