package deploy_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// objects are the manifests' documents, decoded strictly into the
// Kubernetes API types, by kind and name.
type objects map[string]any

// newObject returns the API type of a kind.
func newObject(kind string) any {
	switch kind {
	case "Job":
		return &batchv1.Job{}
	case "Deployment":
		return &appsv1.Deployment{}
	case "Service":
		return &corev1.Service{}
	case "Secret":
		return &corev1.Secret{}
	case "PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}
	case "NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	}
	return nil
}

// documents splits a YAML stream into its documents.
func documents(data string) []string {
	var docs []string
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(data, -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

// decode decodes one document strictly: an unknown or misspelt field (in
// any letter's case), a wrong type or an unknown kind is an error.
func decode(doc string) (string, any, error) {
	var meta struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
		return "", nil, err
	}
	obj := newObject(meta.Kind)
	if obj == nil {
		return "", nil, &unknownKind{meta.APIVersion + " " + meta.Kind}
	}
	// As the API server decodes: field names match case-sensitively, and
	// an unknown or duplicate field is an error.
	data, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return "", nil, err
	}
	strict, err := kjson.UnmarshalStrict(data, obj, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	if err != nil {
		return "", nil, err
	}
	return meta.Kind + "/" + meta.Metadata.Name, obj, nil
}

type unknownKind struct{ kind string }

func (e *unknownKind) Error() string { return "a manifest of unknown kind " + e.kind }

func load(t *testing.T) objects {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("manifests %v, %v", files, err)
	}
	objs := objects{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documents(string(data)) {
			name, obj, err := decode(doc)
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i+1, err)
			}
			objs[name] = obj
		}
	}
	return objs
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objs := load(t)
	for _, name := range []string{"Job/imagescan-sweep", "Job/imagescan-merge", "Deployment/imagescan-redis", "Service/imagescan-redis",
		"NetworkPolicy/imagescan-redis", "PersistentVolumeClaim/imagescan-reports", "Secret/imagescan-registry", "Secret/imagescan-fingerprint-key"} {
		if objs[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	data, err := os.ReadFile("kubernetes/sweep-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, typo := range [][2]string{{"completionMode:", "completionMod:"}, {"secretKeyRef:", "secretKeyref:"}, {"completions: 4", "completions: four"}, {"parallelism: 4", "parallelism: 4\n  parallelism: 4"}} {
		bad := strings.Replace(string(data), typo[0], typo[1], 1)
		if _, _, err := decode(documents(bad)[0]); err == nil {
			t.Errorf("the Job with %q for %q decoded", typo[1], typo[0])
		}
	}
}

// flag returns the value of --name=value among args.
func flag(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func TestTheSweepJobHangsTogether(t *testing.T) {
	objs := load(t)
	job := objs["Job/imagescan-sweep"].(*batchv1.Job)
	spec := job.Spec.Template.Spec
	c := spec.Containers[0]
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Error("the sweep Job is not Indexed: $JOB_COMPLETION_INDEX would not be set")
	}
	shards := flag(c.Args, "shards")
	if c.Args[0] != "sweep" || shards == "" || itoa(*job.Spec.Completions) != shards || itoa(*job.Spec.Parallelism) != shards {
		t.Errorf("args %v: --shards must equal completions (%d) and parallelism (%d)", c.Args, *job.Spec.Completions, *job.Spec.Parallelism)
	}
	if flag(c.Args, "exit-code") != "0" || flag(c.Args, "format") != "json" {
		t.Errorf("args %v: a pod with findings must not fail (--exit-code=0) and must write JSON for merge", c.Args)
	}
	out := flag(c.Args, "output")
	if !strings.Contains(out, "{shard}") || mountOf(c, filepath.Dir(out)) == nil {
		t.Errorf("--output %q: each pod needs its own file ({shard}) on a mounted volume", out)
	}
	svc := objs["Service/imagescan-redis"].(*corev1.Service)
	if want := "redis://" + svc.Name + ":" + itoa(svc.Spec.Ports[0].Port) + "/0"; flag(c.Args, "cache-url") != want {
		t.Errorf("--cache-url %q, want the Service's %q", flag(c.Args, "cache-url"), want)
	}
	checkEnv(t, objs, c)
	checkVolumes(t, objs, spec)
	checkSecurity(t, spec, c)
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %v: requests and a memory limit are needed", c.Resources)
	}
	merge := objs["Job/imagescan-merge"].(*batchv1.Job).Spec.Template.Spec.Containers[0]
	read := mountOf(merge, merge.Args[len(merge.Args)-1])
	wrote := mountOf(c, filepath.Dir(out))
	if read == nil || read.Name != wrote.Name || read.SubPath != wrote.SubPath || merge.Args[0] != "merge" {
		t.Errorf("the merge Job does not read where the sweep writes: %+v, %+v", read, wrote)
	}
	dep := objs["Deployment/imagescan-redis"].(*appsv1.Deployment)
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[k] != v {
			t.Errorf("the Service's selector %s=%s does not pick the Redis pods", k, v)
		}
	}
	np := objs["NetworkPolicy/imagescan-redis"].(*networkingv1.NetworkPolicy)
	for k, v := range np.Spec.Ingress[0].From[0].PodSelector.MatchLabels {
		if job.Spec.Template.Labels[k] != v {
			t.Errorf("the NetworkPolicy lets in %s=%s, which the sweep's pods do not carry", k, v)
		}
	}
}

func checkEnv(t *testing.T, objs objects, c corev1.Container) {
	t.Helper()
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	key := env["IMAGESCAN_FINGERPRINT_KEY"].ValueFrom
	if key == nil || key.SecretKeyRef == nil {
		t.Fatal("no IMAGESCAN_FINGERPRINT_KEY from a Secret: shards would key their ids differently and merge would refuse them")
	}
	secret, _ := objs["Secret/"+key.SecretKeyRef.Name].(*corev1.Secret)
	if secret == nil || secret.StringData[key.SecretKeyRef.Key] == "" {
		t.Errorf("IMAGESCAN_FINGERPRINT_KEY names %s/%s, which secrets.example.yaml does not hold", key.SecretKeyRef.Name, key.SecretKeyRef.Key)
	}
	if m := mountOf(c, env["DOCKER_CONFIG"].Value); m == nil || !m.ReadOnly {
		t.Errorf("DOCKER_CONFIG %q is not a read-only mount", env["DOCKER_CONFIG"].Value)
	}
	if mountOf(c, env["XDG_CACHE_HOME"].Value) == nil {
		t.Errorf("XDG_CACHE_HOME %q is not a mounted volume, and the root filesystem is read-only", env["XDG_CACHE_HOME"].Value)
	}
}

func checkVolumes(t *testing.T, objs objects, spec corev1.PodSpec) {
	t.Helper()
	for _, m := range spec.Containers[0].VolumeMounts {
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			t.Errorf("mount %s names no volume", m.Name)
			continue
		}
		v := spec.Volumes[i]
		if v.Secret != nil && objs["Secret/"+v.Secret.SecretName] == nil {
			t.Errorf("volume %s: no Secret %s", v.Name, v.Secret.SecretName)
		}
		if v.PersistentVolumeClaim != nil && objs["PersistentVolumeClaim/"+v.PersistentVolumeClaim.ClaimName] == nil {
			t.Errorf("volume %s: no claim %s", v.Name, v.PersistentVolumeClaim.ClaimName)
		}
	}
	pvc := objs["PersistentVolumeClaim/imagescan-reports"].(*corev1.PersistentVolumeClaim)
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Error("the reports claim is not ReadWriteMany, and every shard writes to it")
	}
}

func checkSecurity(t *testing.T, spec corev1.PodSpec, c corev1.Container) {
	t.Helper()
	sc := spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != dockerfileUser(t) {
		t.Errorf("the pod must run as non-root, as the Dockerfile's user %d", dockerfileUser(t))
	}
	csc := c.SecurityContext
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("the container must have a read-only root and no privilege escalation")
	}
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Error("an Indexed Job with a pod failure policy needs restartPolicy Never")
	}
}

// dockerfileUser is the numeric user the Dockerfile's final stage runs as.
func dockerfileUser(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^USER (\d+)`).FindAllStringSubmatch(string(data), -1)
	if len(m) == 0 {
		t.Fatal("the Dockerfile sets no numeric USER")
	}
	n, err := strconv.ParseInt(m[len(m)-1][1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mountOf(c corev1.Container, path string) *corev1.VolumeMount {
	for i, m := range c.VolumeMounts {
		if m.MountPath == path {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
