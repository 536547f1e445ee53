package world

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem in a world file, located by line and field path.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "world"
	}
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", file, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", file, e.Line, e.Field, e.Msg)
}

// pos records where a mapping and each of its keys sit in the file.
type pos struct {
	line int
	keys map[string]int
}

// at returns the line of key, or of the mapping when the key is absent.
func (p pos) at(key string) int {
	if l, ok := p.keys[key]; ok {
		return l
	}
	return p.line
}

// decodeStrict decodes a mapping node into out (a pointer to a struct whose
// underlying type has yaml tags), refusing unknown keys, and records positions.
func decodeStrict(n *yaml.Node, out any, p *pos) error {
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Msg: fmt.Sprintf("expected a mapping, found %s", kindName(n))}
	}
	allowed := yamlFields(reflect.TypeOf(out).Elem())
	p.line, p.keys = n.Line, map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, ok := allowed[k.Value]; !ok {
			names := make([]string, 0, len(allowed))
			for a := range allowed {
				names = append(names, a)
			}
			sort.Strings(names)
			return &Error{Line: k.Line, Field: k.Value, Msg: "unknown field; allowed: " + strings.Join(names, ", ")}
		}
		p.keys[k.Value] = k.Line
	}
	if err := n.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return &Error{Line: n.Line, Msg: te.Errors[0]}
		}
		return err
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	default:
		return "something else"
	}
}

func yamlFields(t reflect.Type) map[string]struct{} {
	out := map[string]struct{}{}
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out[tag] = struct{}{}
		}
	}
	return out
}

// Each type decodes strictly and remembers positions.

func (w *World) UnmarshalYAML(n *yaml.Node) error {
	type raw World
	return decodeStrict(n, (*raw)(w), &w.pos)
}

func (t *Tenant) UnmarshalYAML(n *yaml.Node) error {
	type raw Tenant
	return decodeStrict(n, (*raw)(t), &t.pos)
}

func (s *Subscription) UnmarshalYAML(n *yaml.Node) error {
	type raw Subscription
	return decodeStrict(n, (*raw)(s), &s.pos)
}

func (g *ResourceGroup) UnmarshalYAML(n *yaml.Node) error {
	type raw ResourceGroup
	return decodeStrict(n, (*raw)(g), &g.pos)
}

func (i *Identity) UnmarshalYAML(n *yaml.Node) error {
	type raw Identity
	return decodeStrict(n, (*raw)(i), &i.pos)
}

func (f *FederatedCredential) UnmarshalYAML(n *yaml.Node) error {
	type raw FederatedCredential
	return decodeStrict(n, (*raw)(f), &f.pos)
}

func (m *Machine) UnmarshalYAML(n *yaml.Node) error {
	type raw Machine
	return decodeStrict(n, (*raw)(m), &m.pos)
}

func (v *Vault) UnmarshalYAML(n *yaml.Node) error {
	type raw Vault
	return decodeStrict(n, (*raw)(v), &v.pos)
}

func (a *AccessPolicy) UnmarshalYAML(n *yaml.Node) error {
	type raw AccessPolicy
	return decodeStrict(n, (*raw)(a), &a.pos)
}

func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	type raw Secret
	return decodeStrict(n, (*raw)(s), &s.pos)
}

func (a *Application) UnmarshalYAML(n *yaml.Node) error {
	type raw Application
	return decodeStrict(n, (*raw)(a), &a.pos)
}

func (s *AppSecret) UnmarshalYAML(n *yaml.Node) error {
	type raw AppSecret
	return decodeStrict(n, (*raw)(s), &s.pos)
}

func (c *AppCertificate) UnmarshalYAML(n *yaml.Node) error {
	type raw AppCertificate
	return decodeStrict(n, (*raw)(c), &c.pos)
}

func (r *RoleAssignment) UnmarshalYAML(n *yaml.Node) error {
	type raw RoleAssignment
	return decodeStrict(n, (*raw)(r), &r.pos)
}

// Parse decodes and validates a world file; file names it in errors.
func Parse(file string, data []byte) (*World, error) {
	var w World
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		var we *Error
		if errors.As(err, &we) {
			we.File = file
			return nil, we
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	w.baseDir = filepath.Dir(file)
	if err := w.validate(); err != nil {
		var we *Error
		if errors.As(err, &we) {
			we.File = file
		}
		return nil, err
	}
	return &w, nil
}

// Load reads and parses the world file at path.
func Load(path string) (*World, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read world file: %w", err)
	}
	return Parse(path, b)
}
