package deploy

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlays are the kustomizations a user applies.
var overlays = []string{"k8s/overlays/local", "k8s/overlays/local-postgres"}

// object is the part of a rendered resource the tests read.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Data map[string]string `json:"data"` // ConfigMap; Secret data is base64, keys suffice
	Spec struct {
		Type         string `json:"type"`         // Service
		ExternalName string `json:"externalName"` // Service
		Ports        []struct {
			Port       int    `json:"port"`
			TargetPort any    `json:"targetPort"`
			Name       string `json:"name"`
		} `json:"ports"`
		Selector map[string]any `json:"selector"` // Service; PDB: {matchLabels}
		// Deployment
		Replicas *int `json:"replicas"`
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec podSpec `json:"spec"`
		} `json:"template"`
		// PodDisruptionBudget
		MaxUnavailable any `json:"maxUnavailable"`
		MinAvailable   any `json:"minAvailable"`
		// HorizontalPodAutoscaler
		ScaleTargetRef struct {
			Kind, Name string
		} `json:"scaleTargetRef"`
		MinReplicas int `json:"minReplicas"`
		MaxReplicas int `json:"maxReplicas"`
	} `json:"spec"`
}

type podSpec struct {
	Containers []container `json:"containers"`
	Volumes    []struct {
		ConfigMap *struct {
			Name string `json:"name"`
		} `json:"configMap"`
	} `json:"volumes"`
}

type container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Ports []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	} `json:"ports"`
	EnvFrom []struct {
		ConfigMapRef *struct{ Name string } `json:"configMapRef"`
		SecretRef    *struct{ Name string } `json:"secretRef"`
	} `json:"envFrom"`
	Env []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		ValueFrom *struct {
			SecretKeyRef    *struct{ Name, Key string } `json:"secretKeyRef"`
			ConfigMapKeyRef *struct{ Name, Key string } `json:"configMapKeyRef"`
		} `json:"valueFrom"`
	} `json:"env"`
	ReadinessProbe *probe `json:"readinessProbe"`
	LivenessProbe  *probe `json:"livenessProbe"`
	Resources      struct {
		Requests map[string]any `json:"requests"`
		Limits   map[string]any `json:"limits"`
	} `json:"resources"`
}

type probe struct {
	HTTPGet *struct {
		Path string `json:"path"`
		Port any    `json:"port"`
	} `json:"httpGet"`
}

// rendered is one overlay's output, by kind and name.
type rendered map[string]map[string]object

func render(t *testing.T, overlay string) rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), overlay)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", overlay, err)
	}
	out := rendered{}
	for _, r := range m.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var o object
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("%s %s: %v", r.GetKind(), r.GetName(), err)
		}
		if out[o.Kind] == nil {
			out[o.Kind] = map[string]object{}
		}
		out[o.Kind][o.Metadata.Name] = o
	}
	return out
}

func TestKustomizeOverlays(t *testing.T) {
	bins := binarySettings(t)
	for _, overlay := range overlays {
		t.Run(filepath.Base(overlay), func(t *testing.T) {
			objs := render(t, overlay)
			if len(objs["StatefulSet"]) > 0 {
				t.Errorf("StatefulSets %v: the datastores are external (operators/charts), not ours", keys(objs["StatefulSet"]))
			}
			for _, ds := range []string{"kurrentdb", "redis", "postgres", "mail"} {
				if s := objs["Service"][ds]; s.Spec.Type != "ExternalName" || s.Spec.ExternalName == "" {
					t.Errorf("Service %s: want an ExternalName to the real datastore, got %+v", ds, s.Spec.Type)
				}
			}
			for _, b := range binaries {
				checkDeployment(t, objs, b, bins[b.Service])
			}
			for name := range objs["Deployment"] {
				if _, ok := binaryFor(name); !ok {
					t.Errorf("Deployment %s is not an ordo binary", name)
				}
			}
		})
	}
}

func checkDeployment(t *testing.T, objs rendered, b binary, want settings) {
	t.Helper()
	d, ok := objs["Deployment"][b.Service]
	if !ok {
		t.Errorf("no Deployment %s", b.Service)
		return
	}
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("Deployment %s: want one container", b.Service)
		return
	}
	c := d.Spec.Template.Spec.Containers[0]
	env := containerEnv(t, objs, b.Service, c)
	got := map[string]bool{}
	for k := range env {
		got[k] = true
	}
	diffEnv(t, "Deployment "+b.Service, want.Env, got)
	if v := env[b.Prefix+"HTTP_ADDR"]; v != "0.0.0.0:"+want.Port {
		t.Errorf("Deployment %s: %sHTTP_ADDR=%q, want 0.0.0.0:%s", b.Service, b.Prefix, v, want.Port)
	}
	checkURLs(t, objs, b.Service, env)

	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || fmt.Sprint(c.Ports[0].ContainerPort) != want.Port {
		t.Errorf("Deployment %s: ports %+v, want http %s", b.Service, c.Ports, want.Port)
	}
	checkProbe(t, b.Service, "readiness", c.ReadinessProbe, "/readyz")
	checkProbe(t, b.Service, "liveness", c.LivenessProbe, "/healthz")
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == nil || c.Resources.Limits[r] == nil {
			t.Errorf("Deployment %s: %s request and limit must be set", b.Service, r)
		}
	}
	if !strings.HasPrefix(c.Image, "ordo/"+b.Service+":") {
		t.Errorf("Deployment %s: image %q, want ordo/%s:<tag>", b.Service, c.Image, b.Service)
	}

	labels := d.Spec.Template.Metadata.Labels
	if pdb, ok := objs["PodDisruptionBudget"][b.Service]; !ok || !selects(pdb.Spec.Selector["matchLabels"], labels) {
		t.Errorf("Deployment %s: no PodDisruptionBudget selecting its pods", b.Service)
	}
	svc, ok := objs["Service"][b.Service]
	if !ok || !selects(svc.Spec.Selector, labels) || len(svc.Spec.Ports) != 1 ||
		fmt.Sprint(svc.Spec.Ports[0].Port) != want.Port || svc.Spec.Ports[0].TargetPort != "http" {
		t.Errorf("Deployment %s: want a Service %s selecting it on port %s → http", b.Service, b.Service, want.Port)
	}
	hpa, scaled := objs["HorizontalPodAutoscaler"][b.Service]
	switch {
	case b.Service == "provider-sim":
		if scaled || d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
			t.Errorf("provider-sim keeps its ledger in memory: want exactly one replica and no autoscaler")
		}
	case !scaled || hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != b.Service:
		t.Errorf("Deployment %s: no HorizontalPodAutoscaler", b.Service)
	case hpa.Spec.MinReplicas < 1 || hpa.Spec.MaxReplicas < hpa.Spec.MinReplicas:
		t.Errorf("HorizontalPodAutoscaler %s: replicas %d..%d", b.Service, hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
}

// containerEnv resolves every variable the container gets (envFrom
// ConfigMaps, env values and Secret/ConfigMap references, each of which
// must exist) to its value; Secret values are reported as "secret:<key>"
// unless the Secret is a generated one whose value we can decode.
func containerEnv(t *testing.T, objs rendered, name string, c container) map[string]string {
	t.Helper()
	env := map[string]string{}
	set := func(k, v string) {
		if _, dup := env[k]; dup {
			t.Errorf("Deployment %s: %s set twice", name, k)
		}
		env[k] = v
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("Deployment %s: only ConfigMaps in envFrom, so every name is visible here", name)
			continue
		}
		cm, ok := objs["ConfigMap"][from.ConfigMapRef.Name]
		if !ok {
			t.Errorf("Deployment %s: no ConfigMap %s", name, from.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			set(k, v)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			set(e.Name, e.Value)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s, ok := objs["Secret"][ref.Name]
			if _, has := s.Data[ref.Key]; !ok || !has {
				t.Errorf("Deployment %s: %s from missing Secret key %s/%s", name, e.Name, ref.Name, ref.Key)
			}
			set(e.Name, decode(s.Data[ref.Key]))
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			v, ok := objs["ConfigMap"][ref.Name].Data[ref.Key]
			if !ok {
				t.Errorf("Deployment %s: %s from missing ConfigMap key %s/%s", name, e.Name, ref.Name, ref.Key)
			}
			set(e.Name, v)
		default:
			t.Errorf("Deployment %s: %s has an unexpected source", name, e.Name)
		}
	}
	return env
}

// checkURLs wants every address in the settings to name a Service of the
// overlay listening on that port (or an ExternalName datastore).
func checkURLs(t *testing.T, objs rendered, name string, env map[string]string) {
	t.Helper()
	for k, v := range env {
		host, port, ok := hostPort(v)
		if !ok {
			continue
		}
		svc, exists := objs["Service"][host]
		switch {
		case !exists:
			t.Errorf("Deployment %s: %s=%s: no Service %s", name, k, redact(v), host)
		case svc.Spec.Type == "ExternalName":
		case !hasPort(svc, port):
			t.Errorf("Deployment %s: %s=%s: Service %s has no port %s", name, k, redact(v), host, port)
		}
	}
}

func checkProbe(t *testing.T, name, kind string, p *probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port != "http" {
		t.Errorf("Deployment %s: %s probe %+v, want GET %s on port http", name, kind, p, path)
	}
}

func hasPort(svc object, port string) bool {
	for _, p := range svc.Spec.Ports {
		if fmt.Sprint(p.Port) == port {
			return true
		}
	}
	return false
}

func selects(selector any, labels map[string]string) bool {
	m, ok := selector.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	for k, v := range m {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func redact(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		return u.Redacted()
	}
	return v
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestMigrationJob: only the PostgreSQL overlay has the Job, and its
// migrations are exactly the event store's.
func TestMigrationJob(t *testing.T) {
	if jobs := render(t, "k8s/overlays/local")["Job"]; len(jobs) > 0 {
		t.Errorf("KurrentDB overlay has Jobs %v: KurrentDB has no schema to migrate", keys(jobs))
	}
	objs := render(t, "k8s/overlays/local-postgres")
	job, ok := objs["Job"]["migrate-event-store"]
	if !ok {
		t.Fatal("local-postgres: no Job migrate-event-store")
	}
	var cm string
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cm = v.ConfigMap.Name
		}
	}
	data := objs["ConfigMap"][cm].Data
	src, _ := filepath.Glob(filepath.Join(repoRoot, "pkg/eventstore/postgres/migrations/*.sql"))
	if len(src) == 0 {
		t.Fatal("no migrations in pkg/eventstore/postgres/migrations")
	}
	for _, f := range src {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if data[filepath.Base(f)] != string(want) {
			t.Errorf("ConfigMap %s: %s differs from %s: copy it to deploy/k8s/components/postgres/migrations and list it there", cm, filepath.Base(f), f)
		}
	}
	if len(data) != len(src) {
		t.Errorf("ConfigMap %s has %d migrations, pkg has %d", cm, len(data), len(src))
	}
	for _, b := range binaries {
		c := objs["Deployment"][b.Service].Spec.Template.Spec.Containers
		if len(c) == 1 {
			if v := containerEnv(t, objs, b.Service, c[0])[b.Prefix+"DATABASE_URL"]; v != "" && !strings.HasPrefix(v, "postgres://") {
				t.Errorf("local-postgres %s: event store %s, want postgres://", b.Service, redact(v))
			}
		}
	}
}
