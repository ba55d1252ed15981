// pause: the sandbox ("pause") container of the real node's pods. It holds the pod's namespaces
// and does nothing else: it sleeps until SIGTERM or SIGINT and exits 0. Built here with Go
// (hack/build-node-images.sh) because no registry is reachable to pull registry.k8s.io/pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
