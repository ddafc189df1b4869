package auth

import (
	"fmt"
	"slices"
	"sort"
)

// Role is what an account is allowed to be.
type Role string

const (
	RoleSysAdmin   Role = "sysadmin"   // 系统管理员: configuration, units and people
	RoleSecAdmin   Role = "secadmin"   // 安全管理员: accounts and rights
	RoleAuditor    Role = "auditor"    // 审计管理员: the audit log, read-only
	RoleLeader     Role = "leader"     // 领导
	RoleSupervisor Role = "supervisor" // 督查员
	RoleAnalyst    Role = "analyst"    // 对标专员
	RoleUnitHead   Role = "unit_head"  // 单位负责人
	RoleLiaison    Role = "liaison"    // 联络员: acts for their own unit
	RoleViewer     Role = "viewer"     // 干部 / 只读
)

// AllRoles in display order.
var AllRoles = []Role{RoleSysAdmin, RoleSecAdmin, RoleAuditor, RoleLeader, RoleSupervisor, RoleAnalyst, RoleUnitHead, RoleLiaison, RoleViewer}

// AdminRoles are the three separated admin roles (三员分立): no account holds two.
var AdminRoles = []Role{RoleSysAdmin, RoleSecAdmin, RoleAuditor}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(AllRoles, r) }

// Permission is what a route needs.
type Permission string

const (
	// PermPublic: no sign-in needed (login page, health checks, static files).
	PermPublic Permission = "public"
	// PermSignedIn: any signed-in account (home, own password, own tokens).
	PermSignedIn Permission = "signed_in"

	PermUnitsRead   Permission = "units.read"
	PermUnitsWrite  Permission = "units.write"
	PermPeopleRead  Permission = "people.read"
	PermPeopleWrite Permission = "people.write"
	// PermPeoplePII may unmask phone numbers; every unmasking is audited.
	PermPeoplePII Permission = "people.pii"

	PermUsersRead  Permission = "users.read"
	PermUsersWrite Permission = "users.write"

	PermAuditRead Permission = "audit.read"

	PermSystemConfig  Permission = "system.config"
	PermSystemMonitor Permission = "system.monitor"

	// PermTasksRead sees tasks, their timelines and the battle map.
	PermTasksRead Permission = "tasks.read"
	// PermTasksWrite registers, assigns, returns, signs off, cancels and
	// reopens tasks and decides extension requests (督查员).
	PermTasksWrite Permission = "tasks.write"
	// PermTasksReport acts for the holder's own unit: accept, report
	// progress, submit, ask for extensions.
	PermTasksReport Permission = "tasks.report"
	// PermWorkdayAdmin stores and resets working-day calendar years.
	PermWorkdayAdmin Permission = "workday.admin"

	// PermBenchmarkRead sees peers, indicators, gaps, targets and stages.
	PermBenchmarkRead Permission = "benchmark.read"
	// PermBenchmarkWrite keeps peers, indicators, observations, learning
	// activities and targets (对标专员).
	PermBenchmarkWrite Permission = "benchmark.write"

	// PermAssessRead sees published showcases, exhibitions and evaluations.
	PermAssessRead Permission = "assess.read"
	// PermAssessReport acts for the holder's own unit: daily reports,
	// achievements, declarations, objections.
	PermAssessReport Permission = "assess.report"
	// PermAssessWrite runs the cadence: periods, publishing, schemes,
	// reviews, spot checks, answers to objections (督查员).
	PermAssessWrite Permission = "assess.write"
	// PermAssessRate scores other units in the overall rating (综合评比).
	PermAssessRate Permission = "assess.rate"
	// PermAssessSignOff signs a year-end result off; it is then immutable.
	PermAssessSignOff Permission = "assess.signoff"

	// PermAppealRead sees 12345 work orders (citizen data masked) and the analysis.
	PermAppealRead Permission = "appeal.read"
	// PermAppealHandle acts for the holder's own unit on orders dispatched
	// to it: accept, return, ask for an extension, reply.
	PermAppealHandle Permission = "appeal.handle"
	// PermAppealCenter runs the 12345 center: intake, triage, dispatch,
	// review, follow-up, merge, escalation, imports.
	PermAppealCenter Permission = "appeal.center"
	// PermAppealPII unmasks citizens' names, phones and ID numbers; every
	// unmasking is audited.
	PermAppealPII Permission = "appeal.pii"
	// PermOpen311Admin issues and revokes Open311 API keys.
	PermOpen311Admin Permission = "open311.admin"
)

// Matrix is the one place that says which role holds which permission.
var Matrix = map[Role][]Permission{
	RoleSysAdmin:   {PermUnitsRead, PermUnitsWrite, PermPeopleRead, PermPeopleWrite, PermSystemConfig, PermSystemMonitor, PermWorkdayAdmin, PermOpen311Admin},
	RoleSecAdmin:   {PermUsersRead, PermUsersWrite, PermUnitsRead, PermPeopleRead},
	RoleAuditor:    {PermAuditRead},
	RoleLeader:     {PermUnitsRead, PermPeopleRead, PermPeoplePII, PermTasksRead, PermBenchmarkRead, PermAssessRead, PermAssessRate, PermAssessSignOff, PermAppealRead},
	RoleSupervisor: {PermUnitsRead, PermPeopleRead, PermPeoplePII, PermTasksRead, PermTasksWrite, PermBenchmarkRead, PermAssessRead, PermAssessWrite, PermAppealRead, PermAppealCenter, PermAppealPII},
	RoleAnalyst:    {PermUnitsRead, PermPeopleRead, PermTasksRead, PermBenchmarkRead, PermBenchmarkWrite, PermAssessRead, PermAppealRead},
	RoleUnitHead:   {PermUnitsRead, PermPeopleRead, PermTasksRead, PermTasksReport, PermBenchmarkRead, PermAssessRead, PermAssessReport, PermAssessRate, PermAppealRead, PermAppealHandle},
	RoleLiaison:    {PermUnitsRead, PermPeopleRead, PermTasksRead, PermTasksReport, PermBenchmarkRead, PermAssessRead, PermAssessReport, PermAppealRead, PermAppealHandle},
	RoleViewer:     {PermUnitsRead, PermTasksRead, PermBenchmarkRead, PermAssessRead},
}

// RoleHas reports whether role r holds permission p.
func RoleHas(r Role, p Permission) bool {
	if p == PermPublic || p == PermSignedIn {
		return true
	}
	return slices.Contains(Matrix[r], p)
}

// CheckRoles refuses unknown roles and two admin roles on one account.
func CheckRoles(roles []Role) error {
	var admins []string
	for _, r := range roles {
		if !r.Valid() {
			return fmt.Errorf("unknown role %q", r)
		}
		if slices.Contains(AdminRoles, r) {
			admins = append(admins, string(r))
		}
	}
	if len(admins) > 1 {
		sort.Strings(admins)
		return fmt.Errorf("roles %v cannot be held by one account (三员分立: sysadmin, secadmin and auditor are kept apart)", admins)
	}
	return nil
}
