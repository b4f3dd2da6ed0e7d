import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { z } from 'zod'
import App from './App.vue'
import { useApi } from './api'
import { createAppRouter } from './router'
import './styles.css'

// The CSP forbids eval: tell zod not to probe for it (its probe logs a CSP violation) and not to JIT.
z.config({ jitless: true })
// Create the api client first: in web mode it takes the token out of the address bar before routing starts.
useApi()
createApp(App).use(createPinia()).use(createAppRouter()).mount('#app')
