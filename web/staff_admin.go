package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/staff"
)

// The admin pages: staff members and the staff audit trail. The staff
// service refuses a reviewer (403 forbidden), so these handlers need no
// role check of their own; the bar shows their links to admins only.

func staffActor(r *http.Request, st custos.Staff) staff.Actor {
	return staff.Actor{Staff: st, Client: client(r)}
}

// staffMembersView lists the staff and offers to add one.
type staffMembersView struct {
	staffPage
	Members []custos.Staff
	SelfID  string
	Roles   []custos.StaffRole
	// Added is the member just added (or invited again) and their
	// enrolment link, shown once: it is in no URL and not kept.
	Added     string
	EnrolURL  string
	Email     string // kept on a re-render of the add form
	Role      custos.StaffRole
	Form      formErrors
	RoleForm  formErrors // a refused role change
	RoleFixed string     // the member whose role change was refused
}

var staffRoles = []custos.StaffRole{custos.RoleReviewer, custos.RoleAdmin}

func (wb *Web) membersView(r *http.Request, st custos.Staff) (staffMembersView, error) {
	list, err := wb.staff.List(r.Context(), staffActor(r, st))
	if err != nil {
		return staffMembersView{}, err
	}
	return staffMembersView{staffPage: wb.newStaffPage(r, &st, "members"), Members: list, SelfID: st.ID,
		Roles: staffRoles, Role: custos.RoleReviewer}, nil
}

func (wb *Web) staffMembers(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	v, err := wb.membersView(r, st)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("done") {
	case "disabled":
		v.Notice = "console.members.disabled"
	case "role":
		v.Notice = "console.members.role_changed"
	}
	return wb.render(w, "staff_members", v)
}

// staffAddMember adds an invited member and answers the members page with
// the enrolment link, once.
func (wb *Web) staffAddMember(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	role := custos.StaffRole(r.PostForm.Get("role"))
	link, err := wb.staff.Add(r.Context(), staffActor(r, st), email, role)
	v, verr := wb.membersView(r, st)
	if verr != nil {
		return verr
	}
	if err != nil {
		v.Email, v.Role = email, role
		if custos.IsCode(err, custos.EEmailTaken) {
			v.Form.add("email", v.text("console.members.email_taken"))
			return formAgain("staff_members", v)
		}
		if !formProblemOr(&v.Form, v.Lang, err, "email", "email", "role") {
			return err
		}
		return formAgain("staff_members", v)
	}
	v.Added, v.EnrolURL = custos.NormalizeEmail(email), link
	return wb.render(w, "staff_members", v)
}

// staffReinvite issues a new enrolment link for a member still invited.
func (wb *Web) staffReinvite(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := wb.membersView(r, st)
	if err != nil {
		return err
	}
	m, ok := findMember(v.Members, r.PathValue("id"))
	if !ok {
		return custos.Fail(custos.ENotFound, "")
	}
	link, err := wb.staff.Reinvite(r.Context(), staffActor(r, st), m.Email)
	if err != nil {
		return err
	}
	v.Added, v.EnrolURL = m.Email, link
	return wb.render(w, "staff_members", v)
}

// staffSetRole changes another member's role.
func (wb *Web) staffSetRole(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	err := wb.staff.SetRole(r.Context(), staffActor(r, st), id, custos.StaffRole(r.PostForm.Get("role")))
	if err == nil {
		return redirect(w, r, "/staff/members?done=role")
	}
	if !custos.IsCode(err, custos.EInvalidRequest) {
		return err
	}
	v, verr := wb.membersView(r, st)
	if verr != nil {
		return verr
	}
	v.RoleFixed = id
	formProblemOr(&v.RoleForm, v.Lang, err, "role-"+id)
	return formAgain("staff_members", v)
}

func findMember(list []custos.Staff, id string) (custos.Staff, bool) {
	for _, m := range list {
		if m.ID == id {
			return m, true
		}
	}
	return custos.Staff{}, false
}

// staffDisableView asks once more before disabling a member, naming what
// is lost.
type staffDisableView struct {
	staffPage
	Member custos.Staff
}

func (wb *Web) staffDisableForm(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	list, err := wb.staff.List(r.Context(), staffActor(r, st))
	if err != nil {
		return err
	}
	m, ok := findMember(list, r.PathValue("id"))
	if !ok || m.State == custos.StaffDisabled {
		return custos.Fail(custos.ENotFound, "")
	}
	if m.ID == st.ID {
		return custos.Fail(custos.EForbidden, "staff.own_account")
	}
	return wb.render(w, "staff_disable", staffDisableView{staffPage: wb.newStaffPage(r, &st, "members"), Member: m})
}

func (wb *Web) staffDisable(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := wb.staff.DisableID(r.Context(), staffActor(r, st), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/staff/members?done=disabled")
}

// staffAuditView is the staff audit trail, newest first.
type staffAuditView struct {
	staffPage
	Events  []custos.StaffEvent
	StaffID string // the filters
	Target  string
	// Emails names the staff ids that are members.
	Emails map[string]string
	// Older is the link to the next page; "" when this one is the last.
	Older string
}

// auditPage is how many events one page of the trail shows.
const auditPage = 100

func (wb *Web) staffAudit(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	q := r.URL.Query()
	f := custos.StaffEventFilter{StaffID: strings.TrimSpace(q.Get("staff_id")), Target: strings.TrimSpace(q.Get("target")), Limit: auditPage}
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return custos.Fail(custos.EInvalidRequest, "error.invalid_request").OnField("before")
		}
		f.Before = t
	}
	evs, err := wb.staff.Events(r.Context(), staffActor(r, st), f)
	if err != nil {
		return err
	}
	list, err := wb.staff.List(r.Context(), staffActor(r, st))
	if err != nil {
		return err
	}
	v := staffAuditView{staffPage: wb.newStaffPage(r, &st, "audit"), Events: evs, StaffID: f.StaffID, Target: f.Target,
		Emails: make(map[string]string, len(list))}
	for _, m := range list {
		v.Emails[m.ID] = m.Email
	}
	if len(evs) == auditPage {
		older := urlValues("staff_id", f.StaffID, "target", f.Target, "before", evs[len(evs)-1].At.UTC().Format(time.RFC3339Nano))
		v.Older = "/staff/audit?" + older
	}
	return wb.render(w, "staff_audit", v)
}

// urlValues encodes key, value pairs as a query, leaving out empty values.
func urlValues(pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q.Encode()
}
