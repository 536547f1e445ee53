package testenv

import (
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one series of a metric read from a /metrics page.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Samples parses a Prometheus text exposition and returns the series of
// the counter, gauge or untyped metric name; none if it is absent.
func Samples(page io.Reader, name string) ([]Sample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(page)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	fam, ok := families[name]
	if !ok {
		return nil, nil
	}
	out := make([]Sample, 0, len(fam.GetMetric()))
	for _, m := range fam.GetMetric() {
		s := Sample{Labels: map[string]string{}, Value: value(m)}
		for _, l := range m.GetLabel() {
			s.Labels[l.GetName()] = l.GetValue()
		}
		out = append(out, s)
	}
	return out, nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}
