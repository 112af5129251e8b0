package compare

// Row is one change as the comparison's tables show it, every cell
// formatted as the terminal table formats it, so that another rendering
// (the HTML page) shows the same numbers in the same words.
type Row struct {
	// Stat names the statistic: "p95", "error rate", "throughput".
	Stat string
	// Base and New are the statistic in each run ("104ms", "0.00%",
	// "44.89/s"; "-" when neither run had samples).
	Base, New string
	// Change and CI are the change and its interval ("+18.9%",
	// "+17.2% … +19.9%"); empty when the data cannot give them.
	Change, CI string
	// Budget is the budget judged against ("+10%", "ratio ≥ 0.95"); empty
	// when the change is not judged.
	Budget string
	// Verdict is the verdict as the table words it: "" for unchanged,
	// "worse, within budget", "regression", a note in parentheses.
	Verdict string
	// Mark is ✗ for a regression, ✓ for a judged change within its budget,
	// · for one not judged (no budget, not a judged metric, too few samples).
	Mark string
	// Regression is the change beyond its budget; Dim one not judged.
	Regression, Dim bool
}

// TableRow formats ch, one of s's changes, as the terminal table does.
func TableRow(s Subject, ch Change) Row {
	r := changeRow(s, ch, s.Judged)
	return Row{Stat: statLabel(ch.Stat), Base: r.base, New: r.new, Change: r.change, CI: r.ci, Budget: r.budget,
		Verdict: r.verdict, Mark: r.mark, Regression: r.regression, Dim: r.dim}
}

// Status is the comparison's verdict in one line, without colour:
// "✗ REGRESSION — 1 of 13 judged changes beyond their budget".
func Status(c *Comparison) string { return plainStatus(c) }
