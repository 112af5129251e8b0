package compare

import (
	"github.com/driftload/driftload/internal/threshold"
)

// BudgetsFrom turns a thresholds file's compare section into Budgets (nil:
// none set).
func BudgetsFrom(sec *threshold.CompareSection) Budgets {
	if sec == nil {
		return Budgets{}
	}
	b := Budgets{
		MaxP50Regression: copyOf(sec.MaxP50Regression), MaxP95Regression: copyOf(sec.MaxP95Regression),
		MaxP99Regression: copyOf(sec.MaxP99Regression), MaxErrorRateIncrease: copyOf(sec.MaxErrorRateIncrease),
		MinThroughputRatio: copyOf(sec.MinThroughputRatio),
	}
	if d := sec.MinLatencyChange; d != nil {
		ms := float64(*d) / 1e6
		b.MinLatencyChangeMs = &ms
	}
	return b
}

// Override is one budget given on the command line: a value, or Off to
// judge nothing that the thresholds file set.
type Override struct {
	Set   bool
	Off   bool
	Value float64
}

// Overrides are the command line's budgets, each replacing the file's.
type Overrides struct {
	MaxP50Regression, MaxP95Regression, MaxP99Regression Override
	MaxErrorRateIncrease, MinThroughputRatio             Override
	MinLatencyChangeMs                                   Override
}

// Apply returns b with every set override in place.
func (o Overrides) Apply(b Budgets) Budgets {
	set := func(dst **float64, ov Override) {
		switch {
		case !ov.Set:
		case ov.Off:
			*dst = nil
		default:
			v := ov.Value
			*dst = &v
		}
	}
	set(&b.MaxP50Regression, o.MaxP50Regression)
	set(&b.MaxP95Regression, o.MaxP95Regression)
	set(&b.MaxP99Regression, o.MaxP99Regression)
	set(&b.MaxErrorRateIncrease, o.MaxErrorRateIncrease)
	set(&b.MinThroughputRatio, o.MinThroughputRatio)
	set(&b.MinLatencyChangeMs, o.MinLatencyChangeMs)
	return b
}

func copyOf(v *float64) *float64 {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}
