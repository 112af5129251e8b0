package runner

// Expects reports whether a response with status counts as a success for r:
// a status in Expect, or 200–399 when Expect is empty (http_req_failed's rule).
func (r *Request) Expects(status int) bool { return expected(status, r.Expect) }
