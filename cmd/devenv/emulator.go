package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	conn "github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// Names of the connection devenv makes for the emulator, which the samples use.
const (
	emulatorConnection = "emulator"
	emulatorSecret     = "emulator-credentials"
)

type runningEmulator struct {
	server *emulator.Server
	url    string
}

// startEmulator serves an account server emulator at addr and prints how to
// reach it.
func startEmulator(addr string, out io.Writer) (*runningEmulator, func(), error) {
	srv := emulator.New(emulator.Options{})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("starting the account server emulator on %s: %w (choose another with --emulator-addr)", addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(out, "devenv: emulator stopped:", err)
		}
	}()
	b := srv.Bootstrap()
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "devenv: account server emulator at %s\n  client_id: %s\n  client_secret: %s\n  tenant: %s (%s)\n  requests: curl %s/_emulator/requests\n",
		url, b.ClientID, b.ClientSecret, b.TenantName, b.TenantID, url)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	}
	return &runningEmulator{server: srv, url: url}, stop, nil
}

// createEmulatorConnection makes the ClusterAccountServer "emulator", open to
// every namespace, with its Secret in the operator's namespace.
func createEmulatorConnection(ctx context.Context, k8s client.Client, emu *runningEmulator) (client.Object, error) {
	b := emu.server.Bootstrap()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: emulatorSecret, Namespace: operator.DefaultNamespace},
		StringData: map[string]string{conn.KeyClientID: b.ClientID, conn.KeyClientSecret: b.ClientSecret},
	}
	if err := k8s.Create(ctx, secret); err != nil {
		return nil, fmt.Errorf("creating Secret %s: %w", emulatorSecret, err)
	}
	cas := &v1.ClusterAccountServer{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "ClusterAccountServer"},
		ObjectMeta: metav1.ObjectMeta{Name: emulatorConnection},
		Spec: v1.ClusterAccountServerSpec{
			AccountServerSpec: v1.AccountServerSpec{URL: emu.url, CredentialsSecretRef: v1.SecretReference{Name: emulatorSecret}},
			AllowedNamespaces: &metav1.LabelSelector{},
		},
	}
	if err := k8s.Create(ctx, cas); err != nil {
		return nil, fmt.Errorf("creating ClusterAccountServer %s: %w", emulatorConnection, err)
	}
	// Create clears TypeMeta; the watcher needs the kind.
	cas.SetGroupVersionKind(v1.GroupVersion.WithKind("ClusterAccountServer"))
	return cas, nil
}
