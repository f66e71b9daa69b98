package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// features are the flags of the manager binary this run uses: the new
// ones exist only once the remote watch is in.
type features struct {
	driftDetection bool // --drift-detection=watch|poll
	kubeQPS        bool // --kube-api-qps, --kube-api-burst
}

// probeFeatures reads the binary's -help.
func probeFeatures(ctx context.Context, bin string) (features, error) {
	cmd := exec.CommandContext(ctx, bin, "-help")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return features{}, fmt.Errorf("running %s -help: %w", bin, err)
	}
	help := out.String()
	if !strings.Contains(help, "-metrics-bind-address") {
		return features{}, fmt.Errorf("%s -help does not look like the manager's:\n%s", bin, help)
	}
	return features{
		driftDetection: strings.Contains(help, "-drift-detection"),
		kubeQPS:        strings.Contains(help, "-kube-api-qps"),
	}, nil
}
