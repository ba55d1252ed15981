// List/watch sources for the informers: the resources the controllers cache.
//
// Each source lists and watches one resource, so it takes the server's JSON as that
// resource's type: the one place where what the API server sends becomes a typed object.
// Lists and watch events are parsed JSON, so the cache holds plain JSON everywhere (a cached
// V1Pod's "Date" fields are strings).
import type { KObject, ListPage, ListWatchSource, WatchEvent, WatchHandle } from '../runtime/informer.ts';
import type { KubeClient, CustomResourceRef, ListResponse } from './client.ts';
import { projectBudget, projectCustom, projectNode, projectPod, projectService } from './projections.ts';
import type { V1Node, V1Pod, V1PodDisruptionBudget, V1Service } from './types.ts';
import { resourcePath } from './wire.ts';

function page<T>(list: ListResponse, project: (o: T) => T): ListPage<T> {
  return {
    items: (list.items ?? []).map((i) => project(i as T)),
    resourceVersion: list.metadata?.resourceVersion ?? '',
    continue: list.metadata?.continue || undefined,
  };
}

/** A watch event: the object is the resource's (a Status on ERROR), projected. */
function watchEvent<T>(type: string, object: unknown, project: (o: T) => T): WatchEvent<T> {
  const isObject = type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED';
  return { type, object: isObject ? project(object as T) : object } as WatchEvent<T>;
}

interface SourceSpec<T> {
  resource: string;
  /** The collection's URL path, all namespaces or one. */
  path: string;
  labelSelector?: string;
  /** What the cache keeps of each object (projections.ts). */
  project: (o: T) => T;
}

function makeSource<T extends KObject>(client: KubeClient, spec: SourceSpec<T>): ListWatchSource<T> {
  return {
    resource: spec.resource,
    list: async (opts) =>
      page<T>(
        await client.list(
          spec.resource,
          spec.path,
          {
            limit: opts.limit,
            continue: opts.continue,
            labelSelector: spec.labelSelector,
          },
          opts.signal,
        ),
        spec.project,
      ),
    watch(resourceVersion, onEvent, onDone): Promise<WatchHandle> {
      // The server ends each watch after 5-10 minutes; bookmarks keep the resourceVersion fresh.
      const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
      return client.watch(
        spec.path,
        { resourceVersion, allowWatchBookmarks: true, timeoutSeconds, labelSelector: spec.labelSelector },
        (type, obj) => onEvent(watchEvent<T>(type, obj, spec.project)),
        onDone,
      );
    },
  };
}

export interface SourceOptions {
  namespace?: string;
  labelSelector?: string;
}

/** A pod source's options: also the annotations the controllers read (the cache keeps no others). */
export interface PodSourceOptions extends SourceOptions {
  annotations: readonly string[];
}

export function podSource(client: KubeClient, o: PodSourceOptions): ListWatchSource<V1Pod> {
  return makeSource<V1Pod>(client, {
    resource: 'pods',
    path: resourcePath({ group: '', version: 'v1', plural: 'pods', namespace: o.namespace }),
    labelSelector: o.labelSelector,
    project: projectPod(o.annotations),
  });
}

export function serviceSource(client: KubeClient, o: SourceOptions): ListWatchSource<V1Service> {
  return makeSource<V1Service>(client, {
    resource: 'services',
    path: resourcePath({ group: '', version: 'v1', plural: 'services', namespace: o.namespace }),
    labelSelector: o.labelSelector,
    project: projectService,
  });
}

export function budgetSource(client: KubeClient, o: SourceOptions): ListWatchSource<V1PodDisruptionBudget> {
  return makeSource<V1PodDisruptionBudget>(client, {
    resource: 'poddisruptionbudgets',
    path: resourcePath({ group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespace: o.namespace }),
    labelSelector: o.labelSelector,
    project: projectBudget,
  });
}

export function nodeSource(client: KubeClient): ListWatchSource<V1Node> {
  return makeSource<V1Node>(client, {
    resource: 'nodes',
    path: resourcePath({ group: '', version: 'v1', plural: 'nodes' }),
    project: projectNode,
  });
}

/** A custom resource's objects, as `T` (the caller names the kind's type: src/kube knows no CRD). */
export function customSource<T extends KObject>(
  client: KubeClient,
  ref: CustomResourceRef,
  o: SourceOptions,
): ListWatchSource<T> {
  return makeSource<T>(client, {
    resource: ref.plural,
    path: resourcePath({ ...ref, namespace: o.namespace }),
    labelSelector: o.labelSelector,
    project: projectCustom,
  });
}
