import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { useApi } from './api'
import { createAppRouter } from './router'
import './styles.css'

// Create the api client first: in web mode it takes the token out of the address bar before routing starts.
useApi()
createApp(App).use(createPinia()).use(createAppRouter()).mount('#app')
