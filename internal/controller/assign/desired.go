package assign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// maxNameLength is the longest name an AzureAssignedIdentity may have.
const maxNameLength = 253

// Desired computes the assignments that should exist and explains the rest.
func Desired(in Input) Result {
	d := newDecider(in)
	d.checkBindings()
	for i := range in.Pods {
		d.decidePod(&in.Pods[i])
	}
	sort.Slice(d.res.Desired, func(i, j int) bool { return d.res.Desired[i].Key() < d.res.Desired[j].Key() })
	sort.SliceStable(d.res.Findings, func(i, j int) bool {
		a, b := d.res.Findings[i], d.res.Findings[j]
		if a.Object != b.Object {
			return fmt.Sprint(a.Object) < fmt.Sprint(b.Object)
		}
		return a.Reason < b.Reason
	})
	return d.res
}

type decider struct {
	in         Input
	identities map[string]*podidv1.AzureIdentity          // ns/name
	bySelector map[string][]*podidv1.AzureIdentityBinding // selector, sorted by ns/name
	res        Result
	seen       map[Finding]bool
	names      map[string]string // assignment key -> identity ns/name, to avoid collisions
}

func newDecider(in Input) *decider {
	d := &decider{
		in:         in,
		identities: map[string]*podidv1.AzureIdentity{},
		bySelector: map[string][]*podidv1.AzureIdentityBinding{},
		seen:       map[Finding]bool{},
		names:      map[string]string{},
	}
	for i := range in.Identities {
		id := &in.Identities[i]
		d.identities[id.Namespace+"/"+id.Name] = id
	}
	for i := range in.Bindings {
		b := &in.Bindings[i]
		if b.DeletionTimestamp != nil || b.Spec.Selector == "" {
			continue
		}
		d.bySelector[b.Spec.Selector] = append(d.bySelector[b.Spec.Selector], b)
	}
	for _, list := range d.bySelector {
		sort.Slice(list, func(i, j int) bool {
			return list[i].Namespace+"/"+list[i].Name < list[j].Namespace+"/"+list[j].Name
		})
	}
	return d
}

// checkBindings reports bindings naming missing identities and selectors
// shared by bindings of one namespace that name different identities.
func (d *decider) checkBindings() {
	for sel, list := range d.bySelector {
		byNS := map[string][]*podidv1.AzureIdentityBinding{}
		for _, b := range list {
			if d.identity(b) == nil {
				d.find(bindingRef(b), Warning, ReasonIdentityNotFound, fmt.Sprintf(
					"AzureIdentity %q named in spec.azureIdentity does not exist in namespace %s, so pods labelled %s=%s get no identity from this binding. Create it (kubectl get azureidentity -n %s lists those that exist) or fix the name.",
					b.Spec.AzureIdentity, b.Namespace, podidv1.SelectorLabel, sel, b.Namespace))
			}
			byNS[b.Namespace] = append(byNS[b.Namespace], b)
		}
		for _, group := range byNS {
			ids := distinctIdentities(group)
			if len(ids) < 2 {
				continue
			}
			for _, b := range group {
				d.find(bindingRef(b), Warning, ReasonOverlappingSelectors, fmt.Sprintf(
					"Bindings %s share selector %q, so pods labelled %s=%s get identities %s and must name one (client_id, object_id or msi_res_id) in every token request; requests that name none are refused. Give each binding its own selector unless pods need several identities.",
					strings.Join(bindingNames(group), ", "), sel, podidv1.SelectorLabel, sel, strings.Join(ids, ", ")))
			}
		}
	}
}

func (d *decider) decidePod(p *Pod) {
	sel := p.Labels[podidv1.SelectorLabel]
	if sel == "" || p.NodeName == "" || p.Deleting || p.Phase == corev1.PodSucceeded || p.Phase == corev1.PodFailed {
		return
	}
	all := d.bySelector[sel]
	if len(all) == 0 {
		d.find(podRef(p), Warning, ReasonNoBinding, fmt.Sprintf(
			"No AzureIdentityBinding has selector %q, so this pod labelled %s=%s gets no identity. Create a binding with spec.selector: %s in namespace %s, or fix the label.",
			sel, podidv1.SelectorLabel, sel, sel, p.Namespace))
		return
	}
	var serving []*podidv1.AzureIdentityBinding
	var elsewhere []string
	for _, b := range all {
		if d.serves(b, p) {
			serving = append(serving, b)
		} else {
			elsewhere = append(elsewhere, b.Namespace+"/"+b.Name)
		}
	}
	if len(serving) == 0 {
		d.find(podRef(p), Warning, ReasonOtherNamespace, fmt.Sprintf(
			"Only bindings in other namespaces (%s) have selector %q, and a binding serves pods of its own namespace. Create the AzureIdentity and AzureIdentityBinding in namespace %s.",
			strings.Join(elsewhere, ", "), sel, p.Namespace))
		return
	}
	if p.HostNetwork {
		d.find(podRef(p), Warning, ReasonHostNetwork, fmt.Sprintf(
			"The pod uses the host network, so its requests cannot be told from the node's own and it gets no identity from %s. Run it without hostNetwork, or exempt it with an AzurePodIdentityException to let it use the node's identity.",
			strings.Join(bindingNames(serving), ", ")))
		return
	}
	if ex := d.exception(p); ex != "" {
		d.find(podRef(p), Normal, ReasonException, fmt.Sprintf(
			"AzurePodIdentityException %s matches the pod's labels, so its token requests go to the node's IMDS and no binding applies.", ex))
		return
	}
	assigned := map[string]bool{}
	for _, b := range serving {
		id := d.identity(b)
		if id == nil || id.DeletionTimestamp != nil || assigned[id.Namespace+"/"+id.Name] {
			continue
		}
		assigned[id.Namespace+"/"+id.Name] = true
		if b.Namespace != p.Namespace {
			d.find(bindingRef(b), Warning, ReasonClusterWide, fmt.Sprintf(
				"Serves pod %s/%s of another namespace because the controller runs with cluster-wide bindings; any pod that can set the %s label can use identity %s. Annotate the identity with %s: %s to stop this.",
				p.Namespace, p.Name, podidv1.SelectorLabel, id.Name, podidv1.BehaviorAnnotation, podidv1.BehaviorNamespaced))
		}
		d.res.Desired = append(d.res.Desired, d.assignment(p, id, b))
	}
}

// serves reports whether binding b may give its identity to pod p, by the
// rule the node agent checks assignments with too (podidv1.BindingServes).
func (d *decider) serves(b *podidv1.AzureIdentityBinding, p *Pod) bool {
	return podidv1.BindingServes(b, d.identity(b), p.Namespace, d.in.ClusterWide)
}

func (d *decider) identity(b *podidv1.AzureIdentityBinding) *podidv1.AzureIdentity {
	return d.identities[b.Namespace+"/"+b.Spec.AzureIdentity]
}

// exception returns the name of an exception that covers the pod, by the
// rule the node agent applies too (AzurePodIdentityException.Exempts), or "".
func (d *decider) exception(p *Pod) string {
	for i := range d.in.Exceptions {
		ex := &d.in.Exceptions[i]
		if ex.Exempts(p.Namespace, p.Labels) {
			return ex.Namespace + "/" + ex.Name
		}
	}
	return ""
}

// assignment names the object as aad-pod-identity did,
// <pod>-<podNamespace>-<identity>, in the identity's namespace (or
// "default" for a cross-namespace binding, as before), adding the
// identity's namespace or a hash only when needed to stay unique and valid.
func (d *decider) assignment(p *Pod, id *podidv1.AzureIdentity, b *podidv1.AzureIdentityBinding) Assignment {
	ns := id.Namespace
	if id.Namespace != p.Namespace {
		ns = "default"
	}
	idKey := id.Namespace + "/" + id.Name
	name := p.Name + "-" + p.Namespace + "-" + id.Name
	if other, taken := d.names[ns+"/"+name]; taken && other != idKey {
		name += "-" + id.Namespace
	}
	if len(name) > maxNameLength {
		sum := sha256.Sum256([]byte(name))
		name = strings.TrimRight(name[:maxNameLength-17], "-.") + "-" + hex.EncodeToString(sum[:8])
	}
	d.names[ns+"/"+name] = idKey
	return Assignment{Namespace: ns, Name: name, Pod: *p, Identity: id, Binding: b}
}

func (d *decider) find(obj ObjectRef, sev Severity, reason, msg string) {
	f := Finding{Object: obj, Severity: sev, Reason: reason, Message: msg}
	if !d.seen[f] {
		d.seen[f] = true
		d.res.Findings = append(d.res.Findings, f)
	}
}

func podRef(p *Pod) ObjectRef { return ObjectRef{Kind: "Pod", Namespace: p.Namespace, Name: p.Name} }

func bindingRef(b *podidv1.AzureIdentityBinding) ObjectRef {
	return ObjectRef{Kind: podidv1.KindAzureIdentityBinding, Namespace: b.Namespace, Name: b.Name}
}

func distinctIdentities(bs []*podidv1.AzureIdentityBinding) []string {
	set := map[string]bool{}
	var out []string
	for _, b := range bs {
		if !set[b.Spec.AzureIdentity] {
			set[b.Spec.AzureIdentity] = true
			out = append(out, b.Spec.AzureIdentity)
		}
	}
	sort.Strings(out)
	return out
}

func bindingNames(bs []*podidv1.AzureIdentityBinding) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}
