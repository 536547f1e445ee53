package chart

import (
	"sigs.k8s.io/yaml"

	"bufio"
	"strconv"
	"strings"
)

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func itoa(i int) string { return strconv.Itoa(i) }

// indentComment turns values YAML into comment lines after "# values:".
func indentComment(values string) string {
	values = strings.TrimSpace(values)
	if values == "" {
		return " (defaults)"
	}
	return "\n" + commentOut(values)
}

// commentOut prefixes every line with "# ".
func commentOut(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(strings.TrimRight("# "+l, " "))
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func yamlUnmarshal(s string, v any) error { return yaml.Unmarshal([]byte(s), v) }
