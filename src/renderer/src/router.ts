import { createRouter, createWebHashHistory, type Router } from 'vue-router'
import RunsView from './views/RunsView.vue'

/**
 * The app's routes. Hash history, because the Electron window loads a file:// URL and web mode serves a
 * single page; a hash route works in both without server rewrites.
 */
export function createAppRouter(): Router {
  return createRouter({
    history: createWebHashHistory(),
    routes: [
      { path: '/', redirect: '/runs' },
      { path: '/runs', name: 'runs', component: RunsView },
      { path: '/runs/:id', name: 'run', component: () => import('./views/RunView.vue'), props: true },
      { path: '/new', name: 'new-search', component: () => import('./views/NewSearchView.vue') },
      { path: '/data', name: 'data', component: () => import('./views/DataView.vue') },
      { path: '/design', name: 'design', component: () => import('./views/DesignView.vue') },
      { path: '/search', redirect: '/new' },
      { path: '/history', redirect: '/runs' },
      { path: '/compare', name: 'compare', component: () => import('./views/CompareView.vue') },
      { path: '/export', name: 'export', component: () => import('./views/ExportView.vue') },
      { path: '/guide', name: 'guide', component: () => import('./views/GuideView.vue') },
      { path: '/workers', name: 'workers', component: () => import('./views/WorkersView.vue') },
      { path: '/:pathMatch(.*)*', redirect: '/runs' },
    ],
  })
}
